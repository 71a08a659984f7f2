import { type PyJson, SourceNumber } from "./python-json.js";

/**
 * Stringifies a config value the way the Python pipeline logged it with MLflow (`str(value)`),
 * so that runs logged over curl and runs logged from Python compare equal:
 * `true` -> `True`, `[1024, 512, 96]` -> `(1024, 512, 96)`, `4.0` -> `4.0`, `1e-05` -> `1e-05`.
 */
export function pythonStr(value: PyJson | undefined): string {
  if (typeof value === "string") return value;
  return pythonRepr(value);
}

export function pythonRepr(value: PyJson | undefined): string {
  if (value === null || value === undefined) return "None";
  if (typeof value === "boolean") return value ? "True" : "False";
  if (typeof value === "string") return pythonStringRepr(value);
  if (value instanceof SourceNumber) return isFloatLiteral(value.source) ? pythonFloat(value.value) : pythonInt(value.source);
  if (typeof value === "number") return Number.isInteger(value) ? String(value) : pythonFloat(value);
  if (Array.isArray(value)) {
    // The pipeline's frozen configs hold lists as tuples.
    const items = value.map(pythonRepr);
    return items.length === 1 ? `(${items[0]},)` : `(${items.join(", ")})`;
  }
  const entries = Object.entries(value).map(([k, v]) => `${pythonStringRepr(k)}: ${pythonRepr(v)}`);
  return `{${entries.join(", ")}}`;
}

function isFloatLiteral(source: string): boolean {
  return /[.eE]/.test(source);
}

function pythonInt(source: string): string {
  // Keep big integers exact: a JSON integer literal (no leading zeros) is already Python's spelling, but for -0.
  return source === "-0" ? "0" : source;
}

/** Python's float repr: shortest round-trip digits, scientific below 1e-4 and from 1e16 on. */
export function pythonFloat(x: number): string {
  if (Number.isNaN(x)) return "nan";
  if (x === Number.POSITIVE_INFINITY) return "inf";
  if (x === Number.NEGATIVE_INFINITY) return "-inf";
  if (x === 0) return Object.is(x, -0) ? "-0.0" : "0.0";
  const [mantissa, exponentText] = x.toExponential().split("e");
  const exponent = Number(exponentText);
  const negative = mantissa.startsWith("-");
  const digits = mantissa.replace("-", "").replace(".", "");
  const sign = negative ? "-" : "";
  if (exponent < -4 || exponent >= 16) {
    const fraction = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    // toExponential always signs the exponent ("e+16", "e-7"); Python pads it to two digits.
    return `${sign}${fraction}e${exponentText[0]}${String(Math.abs(exponent)).padStart(2, "0")}`;
  }
  if (exponent < 0) return `${sign}0.${"0".repeat(-exponent - 1)}${digits}`;
  const intPart = digits.slice(0, exponent + 1).padEnd(exponent + 1, "0");
  const fracPart = digits.slice(exponent + 1) || "0";
  return `${sign}${intPart}.${fracPart}`;
}

function pythonStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  const escaped = text.replace(/\\/g, "\\\\").replace(/\n/g, "\\n").replace(/\r/g, "\\r").replace(/\t/g, "\\t").replaceAll(quote, `\\${quote}`);
  return `${quote}${escaped}${quote}`;
}
