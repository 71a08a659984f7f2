/** The rule for param, tag and metric keys (MLflow's), as a message; the store and the schemas throw it. */
import { excerpt } from "./excerpt.js";
import { LIMITS } from "./limits.js";

export const capitalize = (text: string) => text[0].toUpperCase() + text.slice(1);

/** Keys: letters, digits, `_ - . space / :`, at most 250 characters, no `..` and no leading `/`. Undefined when the key is good. */
export function keyProblem(kind: string, key: string): string | undefined {
  if (key.length === 0 || key.length > LIMITS.maxKeyLength) {
    return `${capitalize(kind)} key '${excerpt(key)}' had length ${key.length}, which exceeded length limit of ${LIMITS.maxKeyLength}${key.length === 0 ? " or was empty" : ""}`;
  }
  if (!/^[\w\-. /:]+$/.test(key) || key.includes("..") || key.startsWith("/")) {
    return `Invalid ${kind} name: '${key}'. Names may only contain alphanumerics, underscores (_), dashes (-), periods (.), spaces ( ), colon(:) and slashes (/), and may not contain '..' or start with '/'.`;
  }
  return undefined;
}
