// The external tools tinyforge needs (cross compiler, binutils, newlib, QEMU): finding them,
// reporting their versions (`tinyforge doctor`), and one actionable error when one is missing.
import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { delimiter, dirname, isAbsolute, join, normalize, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { TinyforgeError } from '../util/errors.js';

export interface ToolSpec {
  /** Executable name looked up on PATH. */
  name: string;
  /** Debian/Ubuntu package that provides it. */
  debianPackage: string;
  /** What tinyforge uses it for (shown by doctor and in errors). */
  role: string;
}

export const TOOLS: readonly ToolSpec[] = [
  { name: 'arm-none-eabi-gcc', debianPackage: 'gcc-arm-none-eabi', role: 'cross-compiles the firmware' },
  {
    name: 'arm-none-eabi-objcopy',
    debianPackage: 'binutils-arm-none-eabi',
    role: 'writes HEX and BIN images',
  },
  { name: 'arm-none-eabi-objdump', debianPackage: 'binutils-arm-none-eabi', role: 'disassembles firmware' },
  {
    name: 'qemu-system-arm',
    debianPackage: 'qemu-system-arm',
    role: 'runs the firmware on an emulated board',
  },
];

/** newlib is not an executable: gcc finds its spec files or it is missing. */
export const NEWLIB = {
  name: 'newlib (nano.specs, rdimon.specs, nosys.specs)',
  debianPackage: 'libnewlib-arm-none-eabi',
  role: 'C library for the firmware (semihosting or bare-board console I/O)',
  specs: ['nano.specs', 'rdimon.specs', 'nosys.specs'],
} as const;

/** toolchain/install.sh of this checkout or package (it ships in both). */
export const INSTALL_SCRIPT = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  '..',
  'toolchain',
  'install.sh',
);

/** What to run to install the toolchain, for messages. */
export function installHint(packages: readonly string[]): string {
  const unique = [...new Set(packages)];
  return (
    `Install ${unique.length > 1 ? 'them' : 'it'} with 'make setup' in the tinyforge folder, or 'sudo ${INSTALL_SCRIPT}' ` +
    `(Debian/Ubuntu package${unique.length > 1 ? 's' : ''} ${unique.join(', ')}). ` +
    `'tinyforge doctor' shows what is found.`
  );
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** Absolute path of `name` on PATH, or undefined. */
export function findTool(name: string, pathVariable: string = process.env.PATH ?? ''): string | undefined {
  for (const dir of pathVariable.split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue;
    const candidate = join(dir, name);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

function specOf(name: string): ToolSpec {
  const spec = TOOLS.find((t) => t.name === name);
  if (!spec) throw new Error(`unknown tool ${name}`); // a tinyforge bug, not a user error
  return spec;
}

/**
 * Absolute path of a tool from TOOLS; throws TinyforgeError('toolchain') saying how to install it.
 * Call this before running any external tool, so a missing one never shows as a stack trace.
 */
export function requireTool(name: string): string {
  const spec = specOf(name);
  const path = findTool(name);
  if (path) return path;
  throw new TinyforgeError(
    `${name} was not found on PATH (it ${spec.role})`,
    'toolchain',
    installHint([spec.debianPackage]),
  );
}

/** The first version-looking word of a tool's `--version` output. */
export function parseVersion(versionOutput: string): string | undefined {
  const line = versionOutput.split('\n')[0] ?? '';
  return (/version (\d+\.\d+(?:\.\d+)?)/.exec(line) ?? /\)\s+(\d+\.\d+(?:\.\d+)?)/.exec(line))?.[1];
}

const newlibFound = new Map<string, string[]>();

/** Paths of newlib's spec files as `gcc` finds them, or undefined if one is missing. */
export async function findNewlib(gcc: string): Promise<string[] | undefined> {
  const cached = newlibFound.get(gcc);
  if (cached) return cached;
  const paths: string[] = [];
  for (const spec of NEWLIB.specs) {
    // gcc prints the bare name back when it does not find the file.
    const r = await execa(gcc, [`-print-file-name=${spec}`], { reject: false });
    const path = r.stdout.trim();
    if (r.exitCode !== 0 || !isAbsolute(path) || !existsSync(path)) return undefined;
    paths.push(normalize(path));
  }
  newlibFound.set(gcc, paths);
  return paths;
}

/** Throws TinyforgeError('toolchain') unless `gcc` finds newlib's nano, rdimon and nosys specs. */
export async function requireNewlib(gcc: string): Promise<void> {
  if (await findNewlib(gcc)) return;
  throw new TinyforgeError(
    `${gcc} does not find newlib (${NEWLIB.specs.join(', ')}), which the firmware links with`,
    'toolchain',
    installHint([NEWLIB.debianPackage]),
  );
}

/** Everything a firmware build needs: compiler, objcopy, newlib. Returns the tool paths. */
export async function requireBuildTools(): Promise<{ gcc: string; objcopy: string }> {
  const gcc = requireTool('arm-none-eabi-gcc');
  const objcopy = requireTool('arm-none-eabi-objcopy');
  await requireNewlib(gcc);
  return { gcc, objcopy };
}

export interface ToolStatus {
  name: string;
  debianPackage: string;
  role: string;
  found: boolean;
  path?: string;
  version?: string;
}

export interface ToolchainReport {
  ok: boolean;
  tools: ToolStatus[];
  /** Debian packages to install (empty when ok). */
  missingPackages: string[];
  /** The command that installs what is missing (undefined when ok). */
  fix?: string;
}

/** Looks for every tool and newlib; never throws for a missing tool. */
export async function checkToolchain(): Promise<ToolchainReport> {
  const tools: ToolStatus[] = [];
  for (const spec of TOOLS) {
    const path = findTool(spec.name);
    const status: ToolStatus = { ...spec, found: path !== undefined, path };
    if (path) {
      const r = await execa(path, ['--version'], { reject: false, timeout: 10_000 });
      status.version = parseVersion(r.stdout);
    }
    tools.push(status);
  }
  const gcc = tools.find((t) => t.name === 'arm-none-eabi-gcc')?.path;
  const specs = gcc ? await findNewlib(gcc) : undefined;
  tools.push({
    name: NEWLIB.name,
    debianPackage: NEWLIB.debianPackage,
    role: NEWLIB.role,
    found: specs !== undefined,
    path: specs?.[1],
  });
  const missingPackages = [...new Set(tools.filter((t) => !t.found).map((t) => t.debianPackage))];
  const ok = missingPackages.length === 0;
  return { ok, tools, missingPackages, fix: ok ? undefined : installHint(missingPackages) };
}
