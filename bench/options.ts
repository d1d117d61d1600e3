/** Command-line options of the bench scripts: `--name value`. */
export function stringOption(name: string, fallback?: string): string {
  const at = process.argv.indexOf(`--${name}`);
  const value = at < 0 ? fallback : process.argv[at + 1];
  if (value === undefined) throw new Error(`--${name} is required`);
  return value;
}

export function wholeNumberOption(name: string, fallback: number): number {
  const value = Number(stringOption(name, String(fallback)));
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} takes a whole number above 0`);
  return value;
}
