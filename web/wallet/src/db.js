// What the phone keeps, in IndexedDB (this origin only): the cards with their non-extractable device keys,
// and the log of codes shown. Nothing here is ever sent anywhere.
const NAME = "epermit-wallet";
const VERSION = 1;
// cards: {id, ...}; log: {seq, at, cardId, view}; meta: {key, value} (the newest verified trust list).

function open() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      if (!db.objectStoreNames.contains("cards")) db.createObjectStore("cards", { keyPath: "id" });
      if (!db.objectStoreNames.contains("log")) db.createObjectStore("log", { keyPath: "seq", autoIncrement: true });
      if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta", { keyPath: "key" });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function run(store, mode, action) {
  const db = await open();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(store, mode);
      const request = action(tx.objectStore(store));
      tx.oncomplete = () => resolve(request?.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

export const allCards = () => run("cards", "readonly", (s) => s.getAll());
export const getCard = (id) => run("cards", "readonly", (s) => s.get(id));
export const putCard = (card) => run("cards", "readwrite", (s) => s.put(card));
export const deleteCard = (id) => run("cards", "readwrite", (s) => s.delete(id));
export const addLog = (entry) => run("log", "readwrite", (s) => s.add(entry));
export const allLog = () => run("log", "readonly", (s) => s.getAll());
export const getMeta = async (key) => (await run("meta", "readonly", (s) => s.get(key)))?.value ?? null;
export const putMeta = (key, value) => run("meta", "readwrite", (s) => s.put({ key, value }));
