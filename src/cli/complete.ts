import type { Argument, Command, Option } from 'commander';

/**
 * Shell completion with Cobra's `__complete` protocol, which kubectl (>= 1.26) speaks to plugins
 * through `kubectl_complete-datapath`: it is called with the words typed after the plugin name,
 * the last one being the word to complete (maybe ''), and prints one candidate per line
 * (`value\tdescription`), then `:<directive>`.
 */

/** Cobra ShellCompDirective bits (cobra completions.go). */
export const DIRECTIVE = {
  /** Let the shell complete file names. */
  default: 0,
  error: 1,
  noSpace: 2,
  noFileComp: 4,
  filterFileExt: 8,
  /** Complete directory names only. */
  filterDirs: 16,
  keepOrder: 32,
} as const;

/** Cluster names for completion; each may fail or time out, and then offers nothing. */
export interface CompletionSources {
  /** Pod names in `namespace`, or in the context's namespace when undefined. */
  pods(namespace: string | undefined): Promise<string[]>;
  namespaces(): Promise<string[]>;
  contexts(): Promise<string[]>;
}

export interface Candidate {
  value: string;
  description?: string;
}

export interface Completion {
  candidates: Candidate[];
  directive: number;
}

/** Which cluster object a positional argument names, by the name its command gave it. */
const POD_ARGUMENT = /pod|^src$|^dst$|source|destination/i;
/** Arguments that are paths: left to the shell's file completion. */
const PATH_ARGUMENT = /file|dir|path/i;

/** What the typed words say so far. */
interface Parsed {
  command?: Command;
  namespace?: string;
  /** Positional arguments given to the command. */
  positionals: number;
  /** The option whose value is being typed (the word before the one to complete). */
  pendingValueOf?: Option;
}

function optionsOf(program: Command, command: Command | undefined): Option[] {
  return command ? [...command.options, ...program.options] : [...program.options];
}

function takesValue(o: Option): boolean {
  return o.required || o.optional;
}

function findOption(options: Option[], flag: string): Option | undefined {
  return options.find((o) => o.long === flag || o.short === flag);
}

function findCommand(program: Command, name: string): Command | undefined {
  return program.commands.find((c) => c.name() === name || c.aliases().includes(name));
}

function parseWords(program: Command, words: string[]): Parsed {
  const parsed: Parsed = { positionals: 0 };
  for (let i = 0; i < words.length; i++) {
    const word = words[i];
    if (word === '--') {
      parsed.positionals += words.length - i - 1;
      break;
    }
    if (word.startsWith('-') && word !== '-') {
      const eq = word.indexOf('=');
      const flag = eq > 0 ? word.slice(0, eq) : word;
      const option = findOption(optionsOf(program, parsed.command), flag);
      let value: string | undefined = eq > 0 ? word.slice(eq + 1) : undefined;
      if (option && option.required && value === undefined) {
        if (i + 1 === words.length) {
          parsed.pendingValueOf = option;
          break;
        }
        value = words[++i];
      }
      if (option?.long === '--namespace' && value !== undefined) parsed.namespace = value;
      continue;
    }
    if (!parsed.command) {
      const command = findCommand(program, word);
      if (command) {
        parsed.command = command;
        continue;
      }
    }
    parsed.positionals++;
  }
  return parsed;
}

function byPrefix(values: Candidate[], prefix: string): Candidate[] {
  return values.filter((c) => c.value.startsWith(prefix));
}

function names(values: string[], prefix: string): Candidate[] {
  return byPrefix([...new Set(values)].sort().map((value) => ({ value })), prefix);
}

/** The placeholder of an option's value: `file` for `--pcapng <file>`. */
function valueName(o: Option): string {
  return /[<[]([^>\]]+)[>\]]/.exec(o.flags)?.[1] ?? '';
}

async function optionValues(o: Option, prefix: string, sources: CompletionSources): Promise<Completion> {
  if (o.argChoices) return { candidates: byPrefix(o.argChoices.map((value) => ({ value })), prefix), directive: DIRECTIVE.noFileComp };
  if (o.long?.endsWith('namespace') || valueName(o) === 'ns') return { candidates: names(await sources.namespaces(), prefix), directive: DIRECTIVE.noFileComp };
  if (o.long === '--context') return { candidates: names(await sources.contexts(), prefix), directive: DIRECTIVE.noFileComp };
  const kind = valueName(o);
  if (/dir/i.test(kind)) return { candidates: [], directive: DIRECTIVE.filterDirs };
  if (/file|path/i.test(kind)) return { candidates: [], directive: DIRECTIVE.default };
  return { candidates: [], directive: DIRECTIVE.noFileComp };
}

function flagCandidates(options: Option[], prefix: string): Candidate[] {
  const out: Candidate[] = [];
  for (const o of options) {
    if (o.hidden) continue;
    if (o.long) out.push({ value: o.long, description: o.description });
    // Short forms only for a bare `-`, as Cobra does.
    if (o.short && prefix === '-') out.push({ value: o.short, description: o.description });
  }
  out.push({ value: '--help', description: 'show help' });
  if (prefix === '-') out.push({ value: '-h', description: 'show help' });
  return byPrefix(out, prefix);
}

function argumentAt(command: Command, index: number): Argument | undefined {
  const args = command.registeredArguments;
  if (index < args.length) return args[index];
  const last = args[args.length - 1];
  return last?.variadic ? last : undefined;
}

/**
 * complete answers one `__complete` request: `words` are the words after the plugin name, the
 * last being the one to complete. Subcommands and flags come from the program itself, so new
 * commands complete without touching this file; pod and namespace names come from the cluster.
 */
export async function complete(program: Command, words: string[], sources: CompletionSources): Promise<Completion> {
  const typed = words.slice(0, -1);
  const current = words.length > 0 ? words[words.length - 1] : '';
  const parsed = parseWords(program, typed);
  const options = optionsOf(program, parsed.command);

  if (parsed.pendingValueOf) return optionValues(parsed.pendingValueOf, current, sources);
  if (current.startsWith('-')) {
    const eq = current.indexOf('=');
    if (eq > 0) {
      const option = findOption(options, current.slice(0, eq));
      if (!option || !takesValue(option)) return { candidates: [], directive: DIRECTIVE.noFileComp };
      const values = await optionValues(option, current.slice(eq + 1), sources);
      return { ...values, candidates: values.candidates.map((c) => ({ ...c, value: `${current.slice(0, eq + 1)}${c.value}` })) };
    }
    return { candidates: flagCandidates(options, current), directive: DIRECTIVE.noFileComp };
  }
  if (!parsed.command) {
    const commands = program.commands
      .filter((c) => !(c as Command & { _hidden?: boolean })._hidden)
      .map((c) => ({ value: c.name(), description: c.description() }));
    return { candidates: byPrefix(commands, current), directive: DIRECTIVE.noFileComp };
  }
  const argument = argumentAt(parsed.command, parsed.positionals);
  if (!argument) return { candidates: [], directive: DIRECTIVE.noFileComp };
  const name = argument.name();
  if (argument.argChoices) return { candidates: byPrefix(argument.argChoices.map((value) => ({ value })), current), directive: DIRECTIVE.noFileComp };
  if (POD_ARGUMENT.test(name)) {
    // NAMESPACE/NAME: once a slash is typed, the pods of that namespace, written the same way.
    const slash = current.indexOf('/');
    if (slash > 0) {
      const namespace = current.slice(0, slash);
      return { candidates: names((await sources.pods(namespace)).map((pod) => `${namespace}/${pod}`), current), directive: DIRECTIVE.noFileComp };
    }
    return { candidates: names(await sources.pods(parsed.namespace), current), directive: DIRECTIVE.noFileComp };
  }
  if (PATH_ARGUMENT.test(name)) return { candidates: [], directive: DIRECTIVE.default };
  return { candidates: [], directive: DIRECTIVE.noFileComp };
}

/** formatCompletion prints a completion the way Cobra does: candidates, then `:directive`. */
export function formatCompletion(c: Completion, withDescriptions: boolean): string {
  const lines = c.candidates.map((x) => {
    // A tab or newline inside would break the protocol's lines.
    const description = (x.description ?? '').replace(/\s+/g, ' ').trim();
    return withDescriptions && description !== '' ? `${x.value}\t${description}` : x.value;
  });
  lines.push(`:${c.directive}`);
  return `${lines.join('\n')}\n`;
}
