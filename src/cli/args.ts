// A small argument parser for the CLI: `--name value` and `--flag`, checked against what each
// command accepts, with errors that say what is wrong.

/** A usage error: printed with the command's help, exit code 2. */
export class UsageError extends Error {}

export interface OptionSpec {
  /** 'string' | 'number' | 'int' | 'flag' | 'list' (comma-separated strings) */
  type: 'string' | 'number' | 'int' | 'flag' | 'list';
  help: string;
}

/** Parses `argv` against `spec`; returns the options (camelCase keys) and the positional arguments. */
export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>): { options: Record<string, unknown>; positional: string[] } {
  const options: Record<string, unknown> = {};
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [rawName, inline] = arg.slice(2).split('=', 2) as [string, string | undefined];
    const s = spec[rawName];
    if (!s) throw new UsageError(`unknown option --${rawName}`);
    const key = rawName.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    if (s.type === 'flag') {
      if (inline !== undefined) throw new UsageError(`--${rawName} takes no value`);
      options[key] = true;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) throw new UsageError(`--${rawName} needs a value`);
    if (s.type === 'number' || s.type === 'int') {
      const n = Number(value);
      if (value.trim() === '' || !Number.isFinite(n) || (s.type === 'int' && !Number.isInteger(n))) {
        throw new UsageError(`--${rawName} must be ${s.type === 'int' ? 'a whole number' : 'a number'}, got ${JSON.stringify(value)}`);
      }
      options[key] = n;
    } else if (s.type === 'list') {
      options[key] = value.split(',').map((x) => x.trim()).filter(Boolean);
    } else {
      options[key] = value;
    }
  }
  return { options, positional };
}

/** Formats a command's options for --help. */
export function optionHelp(spec: Record<string, OptionSpec>): string {
  return Object.entries(spec).map(([name, s]) => `  --${name}${s.type === 'flag' ? '' : ` <${s.type === 'list' ? 'a,b,...' : s.type}>`}`.padEnd(34) + s.help).join('\n');
}
