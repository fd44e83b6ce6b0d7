/** Pages read at most: a merge request with more comments than this is not searched further. */
export const MAX_PAGES = 50;

/** Every item of a paged list: pages 1, 2, ... until one comes back short. */
export async function collectPages<T>(pageSize: number, readPage: (page: number) => Promise<T[]>): Promise<T[]> {
  const all: T[] = [];
  for (let page = 1; page <= MAX_PAGES; page += 1) {
    const items = await readPage(page);
    all.push(...items);
    if (items.length < pageSize) break;
  }
  return all;
}
