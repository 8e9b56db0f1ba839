// Text modules bundled by wrangler.toml `[[rules]] type = "Text"`: the import's value is the file's text.
declare module "*/chart.umd.min.js" {
  const source: string;
  export default source;
}
