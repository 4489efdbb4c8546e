/** What collab.js exposes for its browser tests (see collab.js). */
interface Window {
  collab: { mapOffset(offset: number, before: string, after: string): number };
}
