// The templates of exported library folders (templates/export/, Handlebars): build files, READMEs
// and the example program, rendered with an ExportView. The model's C itself comes from the
// codegen templates; these only wrap it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Handlebars from 'handlebars';
import { TEMPLATES_DIR } from '../codegen/templates.js';

const EXPORT_TEMPLATES_DIR = join(TEMPLATES_DIR, 'export');

const cache = new Map<string, Handlebars.TemplateDelegate>();
let hb: typeof Handlebars | undefined;

function env(): typeof Handlebars {
  if (hb) return hb;
  hb = Handlebars.create();
  // Thousands separators for byte counts in READMEs (12,345).
  hb.registerHelper('bytes', (v: number) => v.toLocaleString('en-US'));
  hb.registerHelper('eq', (a: unknown, b: unknown) => a === b);
  return hb;
}

/** Renders templates/export/<name>.hbs; strict, so a misspelt field fails instead of printing ''. */
export function renderExport(name: string, view: object): string {
  let t = cache.get(name);
  if (!t) {
    const source = readFileSync(join(EXPORT_TEMPLATES_DIR, `${name}.hbs`), 'utf8');
    t = env().compile(source, { noEscape: true, strict: true });
    cache.set(name, t);
  }
  return t(view).replace(/\n{3,}/g, '\n\n');
}
