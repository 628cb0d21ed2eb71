/** Vite's `?raw` imports: a fixture file's text, bundled into the workerd tests (which cannot read files at run time). */
declare module '*?raw' {
  const text: string;
  export default text;
}
