// `sluice completion bash|zsh`: a shell completion script generated from the commander program
// itself, so a new command or flag completes without anyone editing a script. zsh runs the bash
// function through its bashcompinit layer (one script to keep right, not two).
import type { Command } from 'commander';
import { ConfigError } from '../errors.ts';

/** Every command path (`sluice`, `sluice config check`) with the words that may follow it. */
function wordsByPath(command: Command, path: string, into: Map<string, string[]>, valued: Set<string>): void {
  const options = command.options.flatMap((option) => [option.short, option.long].filter((f): f is string => Boolean(f)));
  for (const option of command.options)
    if (option.required || option.optional) for (const f of [option.short, option.long]) if (f) valued.add(f);
  const subcommands = command.commands.map((sub) => sub.name());
  into.set(path, [...subcommands, ...options, '--help']);
  for (const sub of command.commands) wordsByPath(sub, `${path} ${sub.name()}`, into, valued);
}

/** The completion script for `shell`; anything but bash or zsh is refused naming the argument. */
export function completionScript(program: Command, shell: string): string {
  if (shell !== 'bash' && shell !== 'zsh') throw new ConfigError('completion <shell>', `expected bash or zsh, got "${shell}"`);
  const words = new Map<string, string[]>();
  const valued = new Set<string>();
  wordsByPath(program, program.name(), words, valued);
  const table = [...words].map(([path, list]) => `  ['${path}']='${list.join(' ')}'`).join('\n');
  const bash = `# sluice completion (${shell}): eval "$(sluice completion ${shell})", e.g. in ~/.${shell}rc
declare -A _sluice_words=(
${table}
)
_sluice() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" cmd=sluice w i
  case "$prev" in
    --log-format) COMPREPLY=( $(compgen -W 'json pretty' -- "$cur") ); return ;;
    ${[...valued].join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  for (( i = 1; i < COMP_CWORD; i++ )); do
    w="\${COMP_WORDS[i]}"
    [[ -n "\${_sluice_words[$cmd $w]+x}" ]] && cmd="$cmd $w"
  done
  COMPREPLY=( $(compgen -W "\${_sluice_words[$cmd]}" -- "$cur") )
}
complete -o default -F _sluice sluice
`;
  return shell === 'zsh' ? `autoload -U +X bashcompinit && bashcompinit\n${bash}` : bash;
}

/** Adds `sluice completion <shell>` to `program`. */
export function addCompletionCommand(program: Command): void {
  program
    .command('completion <shell>')
    .description('print a completion script for bash or zsh: eval "$(sluice completion bash)" in ~/.bashrc')
    .action((shell: string) => {
      process.stdout.write(completionScript(program, shell));
    });
}
