/**
 * Users in the sandbox's shells. On AWS the agent starts the shell as ssm-user, or as the
 * run-as user of the session document (runAsEnabled / runAsDefaultUser), and users switch with
 * `sudo -iu alice`. The sandbox runs every shell as the OS user it runs as and cannot switch, so
 * it emulates the parts a session can see:
 *
 * - USER, LOGNAME and HOME: each user has a home of their own under the sandbox's work folder
 *   (`<work>/homes/<instance>/<user>`; ssm-user's is the instance's folder, as before), made on
 *   first use from a small skeleton (.bash_profile, .bashrc, .hushlogin);
 * - the prompt `[alice@ip-10-0-1-11 ~]$ ` (`#` for root), as Amazon Linux shows it;
 * - a folder of commands first on PATH (`<work>/bin`): `whoami` and `id` answer with the
 *   emulated user, and `sudo` switches the emulated user: `-i` (a login shell: `-bash`, in the
 *   user's home), `-s` (a shell), `-u user` (default root), combined as `-iu user`, with or
 *   without a command; it prints what it supports for anything else.
 *
 * A login shell (`bash -l`, `sudo -i`) reads the machine's /etc/profile, which may reset PATH and
 * the prompt; the skeleton's .bash_profile reads .bashrc, which puts the emulation back (from the
 * SSM_SANDBOX_* variables), so tests see the same prompt and commands on any machine.
 */
import { existsSync, mkdirSync, symlinkSync, writeFileSync, cpSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';

/** The user sessions start as when the document does not say otherwise. */
export const DEFAULT_SHELL_USER = 'ssm-user';

const USER_RE = /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/;

/** The prompt of an emulated user on an instance (bash escapes: \W is the folder's name). */
export function sandboxPrompt(user: string, host: string): string {
  return `[${user}@${host} \\W]${user === 'root' ? '#' : '$'} `;
}

const SKEL_BASH_PROFILE = `# EC2 Connect sandbox: the login profile of an emulated user. /etc/profile, read before this,
# may have reset PATH and PS1; .bashrc puts the sandbox's emulation back.
[ -f ~/.bashrc ] && . ~/.bashrc
`;

const SKEL_BASHRC = `# EC2 Connect sandbox: the emulated user's shell settings.
export PATH="$SSM_SANDBOX_BIN:$SSM_SANDBOX_PATH"
if [ "$SSM_SANDBOX_USER" = root ]; then PS1='['"$SSM_SANDBOX_USER@$SSM_SANDBOX_HOST"' \\W]# '
else PS1='['"$SSM_SANDBOX_USER@$SSM_SANDBOX_HOST"' \\W]$ '; fi
`;

const WHOAMI = `#!/bin/sh
# EC2 Connect sandbox: whoami prints the emulated user (the sandbox cannot switch OS users).
printf '%s\\n' "\${SSM_SANDBOX_USER:?whoami: not in an EC2 Connect sandbox session}"
`;

const ID = `#!/bin/sh
# EC2 Connect sandbox: id answers for the emulated users (root 0, ec2-user 1000, ssm-user 1001).
uid_of() {
  case "$1" in
    root) echo 0 ;;
    ec2-user) echo 1000 ;;
    ssm-user) echo 1001 ;;
    *) echo $(( 2000 + $(printf %s "$1" | cksum | cut -d' ' -f1) % 30000 )) ;;
  esac
}
user=\${SSM_SANDBOX_USER:?id: not in an EC2 Connect sandbox session}
u=0 g=0 G=0 n=0
for arg in "$@"; do
  case "$arg" in
    --user) u=1 ;;
    --group) g=1 ;;
    --groups) G=1 ;;
    --name) n=1 ;;
    -?*)
      opts=\${arg#-}
      while [ -n "$opts" ]; do
        c=\${opts%"\${opts#?}"}
        opts=\${opts#?}
        case "$c" in
          u) u=1 ;; g) g=1 ;; G) G=1 ;; n) n=1 ;; r) ;;
          *) echo "id: -$c is not emulated by the EC2 Connect sandbox (it supports -u, -g, -G, -n)" >&2; exit 1 ;;
        esac
      done ;;
    *) user=$arg ;;
  esac
done
if ! printf '%s' "$user" | grep -Eq '^[A-Za-z_][A-Za-z0-9._-]{0,31}$'; then
  echo "id: '$user': no such user" >&2
  exit 1
fi
id=$(uid_of "$user")
if [ $u = 1 ] || [ $g = 1 ] || [ $G = 1 ]; then
  if [ $n = 1 ]; then echo "$user"; else echo "$id"; fi
else
  echo "uid=$id($user) gid=$id($user) groups=$id($user)"
fi
`;

const sudo = (bash: string): string => `#!${bash}
# EC2 Connect sandbox: sudo switches the emulated user (USER, LOGNAME, HOME, the prompt, whoami
# and id); the sandbox cannot switch OS users. What it supports is printed for anything else.
usage() {
  cat >&2 <<'EOF'
sudo: the EC2 Connect sandbox emulates users; it supports
  sudo -i [-u user] [command]   a login shell as the user (default root), or a command in one
  sudo -s [-u user] [command]   a shell as the user, or a command in one
  sudo -u user command...       a command as the user
  (also -iu user, --login, --shell, --user=user; -n, -E and -H are accepted and ignored)
EOF
  exit 1
}
login=0 shell=0 user=root
while [ $# -gt 0 ]; do
  case "$1" in
    --) shift; break ;;
    --login) login=1 ;;
    --shell) shell=1 ;;
    --user=*) user=\${1#--user=} ;;
    --user) [ $# -ge 2 ] || usage; user=$2; shift ;;
    --*) echo "sudo: option $1 is not supported by the sandbox" >&2; usage ;;
    -?*)
      opts=\${1#-} want_user=0
      while [ -n "$opts" ]; do
        c=\${opts:0:1} opts=\${opts:1}
        case "$c" in
          i) login=1 ;;
          s) shell=1 ;;
          n|E|H) ;;
          u) if [ -n "$opts" ]; then user=$opts opts=; else want_user=1; fi ;;
          *) echo "sudo: option -$c is not supported by the sandbox" >&2; usage ;;
        esac
      done
      if [ $want_user = 1 ]; then [ $# -ge 2 ] || usage; user=$2; shift; fi ;;
    *) break ;;
  esac
  shift
done
[ $login = 1 ] || [ $shell = 1 ] || [ $# -gt 0 ] || usage
if ! [[ $user =~ ^[A-Za-z_][A-Za-z0-9._-]{0,31}$ ]]; then
  echo "sudo: unknown user $user" >&2
  exit 1
fi
home=$SSM_SANDBOX_HOMES/$user
if [ ! -e "$home" ]; then
  mkdir -p "$home" && cp -R "$SSM_SANDBOX_BIN/skel/." "$home/" || exit 1
fi
export USER=$user LOGNAME=$user SSM_SANDBOX_USER=$user HOME=$home SHELL=${bash}
export PATH=$SSM_SANDBOX_BIN:$SSM_SANDBOX_PATH
if [ "$user" = root ]; then PS1="[$user@$SSM_SANDBOX_HOST \\\\W]# "; else PS1="[$user@$SSM_SANDBOX_HOST \\\\W]\\$ "; fi
export PS1
if [ $login = 1 ]; then
  cd "$home" || exit 1
  if [ $# -gt 0 ]; then exec -a -bash ${bash} -c "$(printf '%q ' "$@")"; fi
  exec -a -bash ${bash}
fi
if [ $shell = 1 ]; then
  if [ $# -gt 0 ]; then exec ${bash} -c "$(printf '%q ' "$@")"; fi
  exec ${bash} --rcfile "$home/.bashrc" -i
fi
exec "$@"
`;

/** Where a sandbox keeps its emulated users: the commands and every instance's homes. */
export interface RunAsLayout {
  /** The instance's work folder: ssm-user's home. */
  workDir: string;
  /** whoami, id, sudo and the home skeleton. */
  binDir: string;
  /** `<user>` under it is that user's home on this instance. */
  homesDir: string;
}

/**
 * Make the emulation's files for the instance whose work folder is `workDir` (once; later calls
 * find them): the commands, the skeleton, the homes folder with ssm-user's home in it.
 */
export function prepareRunAs(workDir: string, bash: string): RunAsLayout {
  const root = dirname(workDir);
  const binDir = join(root, 'bin');
  const homesDir = join(root, 'homes', basename(workDir));
  if (!existsSync(join(binDir, 'sudo'))) {
    const skel = join(binDir, 'skel');
    mkdirSync(skel, { recursive: true, mode: 0o755 });
    writeFileSync(join(skel, '.bash_profile'), SKEL_BASH_PROFILE, { mode: 0o644 });
    writeFileSync(join(skel, '.bashrc'), SKEL_BASHRC, { mode: 0o644 });
    writeFileSync(join(skel, '.hushlogin'), '', { mode: 0o644 });
    writeFileSync(join(binDir, 'whoami'), WHOAMI, { mode: 0o755 });
    writeFileSync(join(binDir, 'id'), ID, { mode: 0o755 });
    // Last: its presence says the rest is there.
    writeFileSync(join(binDir, 'sudo'), sudo(bash), { mode: 0o755 });
  }
  if (!existsSync(join(workDir, '.bashrc'))) cpSync(join(binDir, 'skel'), workDir, { recursive: true });
  if (!existsSync(join(homesDir, DEFAULT_SHELL_USER))) {
    mkdirSync(homesDir, { recursive: true, mode: 0o755 });
    symlinkSync(workDir, join(homesDir, DEFAULT_SHELL_USER));
  }
  return { workDir, binDir, homesDir };
}

/** Why `user` cannot be a run-as user (the agent's own wording), or null. */
export function runAsProblem(runAsEnabled: boolean, user: string): string | null {
  if (!runAsEnabled) return null;
  if (user.trim() === '') return 'please set the RunAs default user';
  if (!USER_RE.test(user)) return `failed to start pty since RunAs user ${user} does not exist`;
  return null;
}

/**
 * The environment of a shell running as `user` (its home made when missing): USER, LOGNAME,
 * HOME, PS1, PATH with the emulation's commands first, and the SSM_SANDBOX_* variables the
 * commands and the skeleton read.
 */
export function userEnvironment(
  layout: RunAsLayout,
  user: string,
  host: string,
  basePath: string,
): { home: string; env: Record<string, string> } {
  const home = user === DEFAULT_SHELL_USER ? layout.workDir : join(layout.homesDir, user);
  if (!existsSync(home)) {
    mkdirSync(home, { recursive: true, mode: 0o755 });
    cpSync(join(layout.binDir, 'skel'), home, { recursive: true });
  }
  return {
    home,
    env: {
      USER: user,
      LOGNAME: user,
      HOME: home,
      PS1: sandboxPrompt(user, host),
      PATH: `${layout.binDir}:${basePath}`,
      SSM_SANDBOX_USER: user,
      SSM_SANDBOX_HOST: host,
      SSM_SANDBOX_BIN: layout.binDir,
      SSM_SANDBOX_HOMES: layout.homesDir,
      SSM_SANDBOX_PATH: basePath,
    },
  };
}
