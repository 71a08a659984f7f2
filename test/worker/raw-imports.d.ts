// Vite's `?raw` imports: the file's text (fixtures keep Python's number spelling, e.g. `4.0`).
declare module "*?raw" {
  const text: string;
  export default text;
}
