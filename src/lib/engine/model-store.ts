// A model the reader opened from disk, kept in this browser (IndexedDB, through idb-keyval) when
// they ask for it, so the next visit can open it again without picking the folder: its files as
// they were picked (a File is stored whole, as a Blob), by the path the folder plan knew them by.
// Nothing here leaves the machine.
import { createStore, del, get, set, type UseStore } from 'idb-keyval';
import { planFolder, type FolderPlan } from './open-folder';

export interface StoredModel {
  name: string;
  bytes: number;
  savedAt: number; // ms since 1970
}

interface KeptRecord {
  about: StoredModel;
  files: [string, File][];
}

const key = 'opened-model';
let store: UseStore | null = null;
const db = () => (store ??= createStore('explorable-llm', 'models'));

export async function keepModel(plan: FolderPlan): Promise<StoredModel> {
  const about = { name: plan.name, bytes: plan.bytes, savedAt: Date.now() };
  await set(key, { about, files: [...plan.files] } satisfies KeptRecord, db());
  return about;
}

// What is kept, without reading its files.
export async function keptModel(): Promise<StoredModel | null> {
  const r = (await get<KeptRecord>(key, db())) ?? null;
  return r ? r.about : null;
}

// The kept model's plan, as if its folder had been picked again (its files carry the paths they
// were picked with, so the plan names it as before).
export async function planKeptModel(): Promise<FolderPlan | null> {
  const r = await get<KeptRecord>(key, db());
  if (!r) return null;
  const files = r.files.map(([path, file]) => Object.assign(file, { relativePath: path }));
  const plan = await planFolder(files);
  return { ...plan, name: r.about.name };
}

export async function forgetModel(): Promise<void> {
  await del(key, db());
}
