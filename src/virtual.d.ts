// The chapters' front matter, by file path, made at build time by scripts/chapter-meta.ts.
declare module 'virtual:chapter-meta' {
  const meta: Record<string, Record<string, string>>;
  export default meta;
}
