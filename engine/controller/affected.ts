/** Which unit (if any) a repository-relative file belongs to. */
export function unitForFile(file: string, units: readonly { name: string; path: string }[]): string | undefined {
  return units.find((u) => file === u.path || file.startsWith(`${u.path}/`))?.name;
}
