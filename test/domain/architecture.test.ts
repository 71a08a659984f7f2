/**
 * The layer rules of ARCHITECTURE.md, read from the import graph of functions/, cli/ and site/lib:
 * the store never imports the HTTP layer, the core imports only the core (and zod/mini), the errors module has no
 * Hono, and no module imports itself through a cycle.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(new URL(import.meta.url).pathname), "../..");
const sourceDirs = ["functions", "cli", "site/lib"];

function sourceFiles(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(root, path)).isDirectory()) return sourceFiles(path);
    return name.endsWith(".ts") && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** A relative specifier as the repo path of its .ts file; a package name as itself. */
function resolveImport(from: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  const base = relative(root, resolve(root, dirname(from), specifier)).replace(/\.js$/, "");
  const file = [`${base}.ts`, join(base, "index.ts")].find((candidate) => existsSync(join(root, candidate)));
  if (file === undefined) throw new Error(`${from}: cannot resolve import "${specifier}"`);
  return file;
}

const graph = new Map<string, string[]>(
  sourceDirs.flatMap(sourceFiles).map((file) => {
    const imported = ts.preProcessFile(readFileSync(join(root, file), "utf8"), true, false).importedFiles;
    return [file, imported.map((i) => resolveImport(file, i.fileName))];
  }),
);

/** The files a module imports with `import type` alone (erased: nothing of them runs). */
function typeOnlyImports(file: string): Set<string> {
  const source = ts.createSourceFile(file, readFileSync(join(root, file), "utf8"), ts.ScriptTarget.Latest);
  return new Set(
    source.statements
      .filter((s): s is ts.ImportDeclaration => ts.isImportDeclaration(s) && s.importClause?.isTypeOnly === true)
      .map((s) => resolveImport(file, (s.moduleSpecifier as ts.StringLiteral).text)),
  );
}

const importsOf = (prefix: string) => [...graph].filter(([file]) => file.startsWith(prefix)).flatMap(([file, targets]) => targets.map((target) => `${file} -> ${target}`));

const isHono = (target: string) => target === "hono" || target.startsWith("hono/");

/** Every cycle, each reported once as the path that closes it. */
function cycles(): string[][] {
  const found: string[][] = [];
  const state = new Map<string, "open" | "done">();
  const path: string[] = [];
  const visit = (file: string) => {
    state.set(file, "open");
    path.push(file);
    for (const target of graph.get(file) ?? []) {
      if (!graph.has(target)) continue;
      if (state.get(target) === "open") found.push([...path.slice(path.indexOf(target)), target]);
      else if (!state.has(target)) visit(target);
    }
    path.pop();
    state.set(file, "done");
  };
  for (const file of graph.keys()) if (!state.has(file)) visit(file);
  return found;
}

describe("layers", () => {
  it("reads a graph that covers every layer", () => {
    for (const dir of ["functions/domain/", "functions/store/", "functions/http/", "functions/api/", "functions/mlflow/", "cli/", "site/lib/"]) {
      expect(
        [...graph.keys()].some((file) => file.startsWith(dir)),
        dir,
      ).toBe(true);
    }
  });

  it("the store never imports the HTTP layer", () => {
    const forbidden = importsOf("functions/store/").filter((edge) => {
      const target = edge.split(" -> ")[1];
      return isHono(target) || /^functions\/(http|middleware|api|mlflow)\//.test(target) || target === "functions/index.ts";
    });
    expect(forbidden).toEqual([]);
  });

  it("the core imports only the core (and zod/mini, in which the export document format is written)", () => {
    const forbidden = importsOf("functions/domain/").filter((edge) => {
      const target = edge.split(" -> ")[1];
      return !target.startsWith("functions/domain/") && target !== "zod/mini";
    });
    expect(forbidden).toEqual([]);
  });

  it("the errors module knows nothing of Hono or the layers above it", () => {
    const forbidden = importsOf("functions/errors.ts").filter((edge) => {
      const target = edge.split(" -> ")[1];
      return isHono(target) || (target.startsWith("functions/") && !target.startsWith("functions/domain/"));
    });
    expect(graph.has("functions/errors.ts")).toBe(true);
    expect(forbidden).toEqual([]);
  });

  it("the CLI and the site import from the worker only its core, its contract and the shared HTTP client", () => {
    const forbidden = [...importsOf("cli/"), ...importsOf("site/lib/")].filter((edge) => {
      const target = edge.split(" -> ")[1];
      return target.startsWith("functions/") && !/^functions\/(domain|client)\//.test(target) && target !== "functions/api/contract.ts";
    });
    expect(forbidden).toEqual([]);
  });

  it("the shared HTTP client imports the core, the contract, hono/client, and the v1 app for its type only", () => {
    const allowed = (target: string) => target.startsWith("functions/domain/") || target === "functions/api/contract.ts" || target === "hono/client";
    const forbidden = importsOf("functions/client/").filter((edge) => {
      const [file, target] = edge.split(" -> ");
      return !allowed(target) && !(target === "functions/api/index.ts" && typeOnlyImports(file).has(target));
    });
    expect(graph.has("functions/client/index.ts")).toBe(true);
    expect(forbidden).toEqual([]);
  });

  it("has no import cycle", () => {
    expect(cycles().map((cycle) => cycle.join(" -> "))).toEqual([]);
  });
});
