#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The manual pages and the shell completion generated from the command table
# (src/cli/docgen.c): they render without warnings, cover every command and every variable the
# tool reads, and complete what --help lists.
#
#   tests/cli/docs.sh FASTEPOST_CLI SOURCE_DIR
set -euo pipefail
cli=$1 src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL: $*" >&2; fail=1; }

mkdir -p "$work/man1"
"$cli" --man-pages "$work/man1"
[[ -s "$work/man1/fastepost.1" ]] || bad "no fastepost.1"
# groff's warnings (-ww) on every page: bad requests, escapes, macros.
for page in "$work"/man1/*.1; do
  out=$(groff -man -ww -z "$page" 2>&1) || bad "groff failed on $(basename "$page")"
  [[ -z "$out" ]] || bad "groff warns on $(basename "$page"): $out"
done
# Every command's whole --help text is in its group's page, line for line.
"$cli" --completion bash >"$work/fastepost.bash"
commands=$(sed -n 's/^    "\([a-z]*\) \([a-z]*\)\*\{0,1\}") opts=.*/\1 \2/p' "$work/fastepost.bash")
[[ $(wc -l <<<"$commands") -ge 20 ]] || bad "too few commands in the bash completion: $commands"
while read -r g c; do
  page="$work/man1/fastepost-$g.1"
  [[ -s "$page" ]] || { bad "no page for group $g"; continue; }
  text=$(MANWIDTH=250 man -l -P cat "$page" 2>/dev/null | tr -s ' ')
  while IFS= read -r line; do
    line=$(tr -s ' ' <<<"$line")
    [[ -n "${line// /}" ]] || continue
    grep -qF -- "$line" <<<"$text" || bad "fastepost-$g(1) lacks a line of 'fastepost $g $c --help': $line"
  done < <("$cli" "$g" ${c:+"$c"} --help 2>/dev/null)
done <<<"$commands"
# Every environment variable the tool reads is in fastepost(1).
overview=$(man -l -P cat "$work/man1/fastepost.1" 2>/dev/null)
for v in $(grep -ho 'getenv("[A-Z_]*")' "$src"/src/cli/*.c | sed 's/getenv("\(.*\)")/\1/' | sort -u); do
  grep -q "$v" <<<"$overview" || bad "fastepost(1) does not name $v, which the tool reads"
done

# bash: complete as a user would, through the function the script registers.
complete_bash() { # words...; prints the candidates
  bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 )); _fastepost; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$work/fastepost.bash" "$@"
}
expect() { # what, want, candidates
  grep -qx -- "$2" <<<"$3" || bad "$1: '$2' not among: $(echo $3)"
}
expect "group" backup "$(complete_bash fastepost bac)"
expect "group after --db" backup "$(complete_bash fastepost --db 'dbname=x' bac)"
expect "subcommand" create "$(complete_bash fastepost backup cr)"
expect "option" --dump-db "$(complete_bash fastepost backup create --du)"
expect "global option" --json "$(complete_bash fastepost backup create --js)"
[[ -z "$(complete_bash fastepost backup create --lock)" ]] || bad "prose options offered (pg_dump's --lock-wait-timeout)"
# Each command's own options (every option that starts a line of its --help table), completed
# from its first two letters, in one shell.
while read -r g c; do
  for o in $("$cli" "$g" ${c:+"$c"} --help 2>/dev/null | sed -n 's/^  \(--[a-z][a-z0-9-]*\).*/\1/p'); do
    echo "$g ${c:--} $o"
  done
done <<<"$commands" >"$work/queries"
[[ -s "$work/queries" ]] || bad "no options found in any --help"
missing=$(bash -c 'source "$1"
  while read -r g c o; do
    words=(fastepost "$g"); [[ $c == - ]] || words+=("$c"); words+=("${o:0:4}")
    COMP_WORDS=("${words[@]}"); COMP_CWORD=$(( ${#words[@]} - 1 )); COMPREPLY=(); _fastepost
    printf "%s\n" "${COMPREPLY[@]}" | grep -qx -- "$o" || echo "$g $c $o"
  done <"$2"' _ "$work/fastepost.bash" "$work/queries")
[[ -z "$missing" ]] || bad "options not completed: $missing"

# zsh: the function parses (Debian's zsh, installed by scripts/deps).
"$cli" --completion zsh >"$work/_fastepost"
if command -v zsh >/dev/null; then
  zsh -n "$work/_fastepost" || bad "zsh completion does not parse"
else
  echo "skipped: zsh is not installed (scripts/deps installs it)"; exit 77
fi
"$cli" --completion fish >/dev/null 2>&1 && bad "--completion fish accepted"
"$cli" --man nosuchgroup >/dev/null 2>&1 && bad "--man of an unknown group accepted"
[[ $fail -eq 0 ]] && echo "docs: manual pages and completion OK"
exit $fail
