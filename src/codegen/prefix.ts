// --prefix: the namespace of a generated model's C names. Templates are written with the default
// prefix (tf_ for symbols and types, TF_ for macros, tfl_/TFL_ in TFLite's arithmetic header); for
// another prefix P one pass over the rendered text renames every such identifier: tf_x -> Px,
// TF_X -> upper(P)X, tfl_x -> Ptfl_x, TFL_X -> upper(P)TFL_X. It renames identifiers only, never a
// part of another word (x_tf_y stays), never inside a string literal (class and layer names, section
// names) except the file name of an #include, and never after a '.' (section names such as
// .text.tf_kernels.<layer> in comments; in comments -DTF_X is renamed too). Section names stay as they are on purpose: `tinyforge size`
// categorizes bytes by them (weights, tables, kernels, arena), whichever model they belong to.
import { TinyforgeError } from '../util/errors.js';

export const DEFAULT_PREFIX = 'tf_';

/** Lower case, a C identifier, ending in '_'; not starting with '_' (reserved names). */
const PREFIX_RE = /^[a-z][a-z0-9_]*_$/;
const MAX_PREFIX = 24;

/** Throws a usage error naming the rule a prefix breaks. */
export function checkPrefix(prefix: string): void {
  if (PREFIX_RE.test(prefix) && prefix.length <= MAX_PREFIX) return;
  const fix = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .replace(/^[^a-z]+/, '');
  const suggestion = fix ? `, e.g. --prefix ${fix.endsWith('_') ? fix : `${fix}_`}` : '';
  throw new TinyforgeError(
    `invalid --prefix '${prefix}': it must be a lower-case C identifier prefix ending in '_' ` +
      `(letters, digits, '_', starting with a letter, at most ${MAX_PREFIX} characters)`,
    'usage',
    `Use something like --prefix kws_ (symbols kws_model_run, macros KWS_INPUT_SIZE)${suggestion}.`,
  );
}

// Comments, string and character literals, and candidate identifiers, left to right.
const TOKEN =
  /\/\*[\s\S]*?\*\/|\/\/[^\n]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|(?<![\w.])(?:tfl?|TFL?)_\w*/g;
// In comments also a compiler option's macro: -DTF_PORTABLE.
const IDENT = /(?:(?<=-D)|(?<![\w.]))(?:tfl?|TFL?)_\w*/g;

function renameIdent(id: string, prefix: string): string {
  const upper = prefix.toUpperCase();
  if (id.startsWith('tfl_')) return prefix + id;
  if (id.startsWith('TFL_')) return upper + id;
  if (id.startsWith('tf_')) return prefix + id.slice(3);
  return upper + id.slice(3);
}

/** The rendered text with the default prefix's identifiers renamed to `prefix` (see the top). */
export function applyPrefix(text: string, prefix: string): string {
  if (prefix === DEFAULT_PREFIX) return text;
  const ident = (s: string) => s.replace(IDENT, (id) => renameIdent(id, prefix));
  return text.replace(TOKEN, (tok, offset: number) => {
    if (tok.startsWith('/')) return ident(tok);
    if (tok.startsWith("'")) return tok;
    if (tok.startsWith('"')) {
      const line = text.slice(text.lastIndexOf('\n', offset) + 1, offset);
      return /^\s*#\s*include\s*$/.test(line) ? `"${ident(tok.slice(1, -1))}"` : tok;
    }
    return renameIdent(tok, prefix);
  });
}

/** A generated file's name under a prefix: model.c -> <P>model.c, tf_fixedpoint.h -> <P>fixedpoint.h. */
export function prefixedFileName(name: string, prefix: string): string {
  if (prefix === DEFAULT_PREFIX) return name;
  return name.startsWith('tf_') ? prefix + name.slice(3) : prefix + name;
}
