// Loads the C templates (templates/ at the package root) into an isolated Handlebars environment:
// every .hbs file under templates/ is a partial named by its path without the extension
// ('kernels/conv1d'), the few listed in TOP_LEVEL are also rendered as whole files
// ('model.c', 'firmware/windows.h'), and the few helpers turn values into C tokens.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import Handlebars from 'handlebars';
import { cArrayBody, cComment, cFloat, cInt, cString } from './cformat.js';

/** templates/ from src/codegen (tests, tsx) and from dist/codegen (installed package) alike. */
export const TEMPLATES_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'templates');

/** The top-level templates, by path under templates/ without '.hbs'; the rest are only partials. */
const TOP_LEVEL = [
  'model.c',
  'model.h',
  'fixedpoint.h',
  'fixedpoint_tflite.h',
  'firmware/windows.c',
  'firmware/windows.h',
] as const;

export type TemplateName = (typeof TOP_LEVEL)[number];

function isTopLevel(name: string): name is TemplateName {
  return (TOP_LEVEL as readonly string[]).includes(name);
}

function listTemplates(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listTemplates(path));
    else if (entry.name.endsWith('.hbs')) out.push(path);
  }
  return out.sort();
}

let cache: Map<TemplateName, Handlebars.TemplateDelegate> | undefined;

function load(): Map<TemplateName, Handlebars.TemplateDelegate> {
  const hb = Handlebars.create();
  hb.registerHelper('cArray', (values: ArrayLike<number>, perLine: unknown) =>
    cArrayBody(values, typeof perLine === 'number' ? perLine : 16),
  );
  hb.registerHelper('cString', (s: string) => cString(String(s)));
  hb.registerHelper('cFloat', (v: number) => cFloat(v));
  hb.registerHelper('cInt', (v: number) => cInt(v));
  hb.registerHelper('cComment', (s: string) => cComment(String(s)));
  const compiled = new Map<TemplateName, Handlebars.TemplateDelegate>();
  for (const file of listTemplates(TEMPLATES_DIR)) {
    const path = relative(TEMPLATES_DIR, file)
      .split(sep)
      .join('/')
      .replace(/\.hbs$/, '');
    const name = path.replace(/\.(c|h)$/, '');
    const source = readFileSync(file, 'utf8');
    // noEscape: this is C, not HTML; strict: a misspelt field is an error, not an empty string.
    const opts = { noEscape: true, strict: true } as const;
    hb.registerPartial(name, hb.compile(source, opts));
    if (isTopLevel(path)) compiled.set(path, hb.compile(source, opts));
  }
  return compiled;
}

/** Renders one of the top-level templates with a view. */
export function render(name: TemplateName, view: object): string {
  cache ??= load();
  const template = cache.get(name);
  if (!template) throw new Error(`template ${name} is missing from ${TEMPLATES_DIR}`);
  // Blocks leave runs of blank lines behind; one blank line is enough.
  return template(view).replace(/\n{3,}/g, '\n\n');
}
