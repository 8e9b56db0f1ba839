// Conversions between JSON and Postgres' text format, following Neon's SQL-over-HTTP proxy:
// parameters arrive as JSON and go to Postgres as text; without `Neon-Raw-Text-Output: true`
// result values go back as JSON numbers, booleans, objects and arrays where the type allows.

const BOOL = 16;
const INT2 = 21;
const INT4 = 23;
const FLOAT4 = 700;
const FLOAT8 = 701;
const JSON_OID = 114;
const JSONB = 3802;

/** Element type of the built-in array types (array OID -> element OID). */
const ARRAY_ELEMENT: Record<number, number> = {
  1000: BOOL,
  1005: INT2,
  1007: INT4,
  1016: 20,
  1021: FLOAT4,
  1022: FLOAT8,
  199: JSON_OID,
  3807: JSONB,
  1009: 25,
  1015: 1043,
  1014: 1042,
  1231: 1700,
  1115: 1114,
  1185: 1184,
  1182: 1082,
  2951: 2950,
};

/** A JSON parameter as Postgres text: strings as they are, arrays as array literals, null as NULL. */
export function jsonParamToPgText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value === "string") return value;
  if (Array.isArray(value)) return jsonArrayToPgArray(value);
  return JSON.stringify(value);
}

function jsonArrayToPgArray(value: unknown): string {
  if (value === null || value === undefined) return "NULL";
  if (Array.isArray(value)) return `{${value.map(jsonArrayToPgArray).join(",")}}`;
  // Inside an array literal every element is quoted JSON text, objects included.
  return JSON.stringify(typeof value === "object" ? JSON.stringify(value) : value);
}

/** A text value from Postgres as the JSON value Neon returns without raw text output. */
export function pgTextToJson(text: string, typeId: number): unknown {
  const element = ARRAY_ELEMENT[typeId];
  if (element !== undefined) return parsePgArray(text, element);
  switch (typeId) {
    case BOOL:
      return text === "t";
    case INT2:
    case INT4:
      return Number.parseInt(text, 10);
    case FLOAT4:
    case FLOAT8: {
      const n = Number(text);
      // NaN and Infinity have no JSON form: keep Postgres' spelling.
      return Number.isFinite(n) ? n : text;
    }
    case JSON_OID:
    case JSONB:
      return JSON.parse(text);
    default:
      return text;
  }
}

/** Parses a one- or multi-dimensional array literal such as `{1,NULL,"a b"}` or `[0:1]={{1},{2}}`. */
function parsePgArray(text: string, element: number): unknown[] {
  let i = 0;
  // Bounds decoration has no JSON form; Neon drops it too.
  if (text.startsWith("[")) i = text.indexOf("=") + 1;

  const parseList = (): unknown[] => {
    if (text[i] !== "{") throw new Error("unbalanced array");
    i++;
    const items: unknown[] = [];
    if (text[i] === "}") {
      i++;
      return items;
    }
    for (;;) {
      items.push(parseItem());
      if (text[i] === ",") {
        i++;
        continue;
      }
      if (text[i] === "}") {
        i++;
        return items;
      }
      throw new Error("unbalanced array");
    }
  };

  const parseItem = (): unknown => {
    if (text[i] === "{") return parseList();
    if (text[i] === '"') {
      i++;
      let out = "";
      while (i < text.length && text[i] !== '"') {
        if (text[i] === "\\") i++;
        out += text[i];
        i++;
      }
      i++;
      return pgTextToJson(out, element);
    }
    let end = i;
    while (end < text.length && text[end] !== "," && text[end] !== "}") end++;
    const raw = text.slice(i, end).trim();
    i = end;
    return raw === "NULL" ? null : pgTextToJson(raw, element);
  };

  return parseList();
}
