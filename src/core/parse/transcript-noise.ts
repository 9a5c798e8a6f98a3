/**
 * Lines a terminal transcript adds around a tool's output: the shell prompt with the command, and
 * kubectl's own notices. Saved outputs (the seed notes, blog posts, `kubectl exec ... > file 2>&1`)
 * carry them; every parser recognises them the same way.
 */

/** `root@bpf1:~# cmd`, `root@bpf1:/home/cilium#`, `[root@wluo dir]$ cmd`, `kmille@linbox ~% cmd`. */
const SHELL_PROMPT = /^(?:\[[\w.-]+@[^\]]+\]|[\w.-]+@[\w.-]+(?::\S*)?(?: [~\w./-]+)?) ?[#$%](?: |$)/;

/**
 * A bare prompt (`$ `, `# `, `% `, `> `, zsh/starship `❯ `) followed by a command of a tool we read
 * or of the commands around it: a bare `# ` alone could be a comment, the command decides.
 */
const BARE_PROMPT = /^(?:[$#%>]|\u276f) (?:sudo )?(?:kubectl|k|cilium|cilium-dbg|tcpdump|pwru|hubble|iptables|ip6tables|nft|xtables-monitor|ip|ethtool|bpftool|tshark|termshark)(?: |$)/;

/** kubectl's notices on stderr that land in captured output. */
const KUBECTL_NOTICE = /^(?:Defaulted container "[^"]*" out of: |Unable to use a TTY - input is not a terminal|command terminated with exit code \d+$)/;

/** isShellPrompt tells whether a line is a shell prompt (with or without the command typed after it). */
export function isShellPrompt(line: string): boolean {
  return SHELL_PROMPT.test(line);
}

/** transcriptNoise returns why a line is transcript noise (prompt or kubectl notice), or undefined. */
export function transcriptNoise(line: string): string | undefined {
  if (SHELL_PROMPT.test(line) || BARE_PROMPT.test(line)) return 'shell prompt';
  if (KUBECTL_NOTICE.test(line)) return 'kubectl notice';
  return undefined;
}
