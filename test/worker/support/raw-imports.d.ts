// Vite's `?raw` imports (a file's text), used to check files the Worker does not serve itself.
declare module "*?raw" {
  const text: string;
  export default text;
}
