// Every bad input the engine can meet raises one of these, with a code a caller can branch on and a
// message a reader can understand. The engine never answers bad input with a silent NaN.
export class EngineError extends Error {
  constructor(
    public code: string,
    message: string
  ) {
    super(message);
    this.name = 'EngineError';
  }
}
