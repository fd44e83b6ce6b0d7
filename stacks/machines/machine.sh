# Start or stop one machine's SSH server (run by the local-exec provisioners
# of main.tf, with ACTION=start|stop and the MACHINE_* variables set).
set -eu

case "$MACHINE_HOME" in
  /*/*) ;;
  *) echo "refusing machine folder \"$MACHINE_HOME\": not an absolute path below a folder" >&2; exit 1 ;;
esac
config="$MACHINE_HOME/sshd_config"
key="$MACHINE_HOME/ssh_host_ed25519_key"
pidfile="$MACHINE_HOME/sshd.pid"

# Is this pid this machine's sshd? A stale pid file may name another process
# by now. Plumbline's sandbox shows no /proc to processes that outlive the
# apply: there, the pid file in the machine's own folder is trusted.
is_server() {
  [ -d /proc/self ] || return 0
  tr '\0' ' ' < "/proc/$1/cmdline" 2>/dev/null | grep -q sshd
}

# Stop the server this machine's pid file names, and its connections (each
# one a child of the listener, in a session of its own).
stop_server() {
  pid=$(cat "$pidfile" 2>/dev/null || true)
  case "$pid" in ''|*[!0-9]*) rm -f "$pidfile"; return 0 ;; esac
  if kill -0 "$pid" 2>/dev/null && is_server "$pid"; then
    if command -v pkill >/dev/null 2>&1; then pkill -TERM -P "$pid" 2>/dev/null || true; fi
    kill -TERM "$pid" 2>/dev/null || true
    i=0
    while kill -0 "$pid" 2>/dev/null && [ "$i" -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
  fi
  rm -f "$pidfile"
}

case "$ACTION" in
  start)
    sshd=/usr/sbin/sshd
    [ -x "$sshd" ] || sshd=$(command -v sshd || true)
    [ -n "$sshd" ] || { echo "$MACHINE_NAME: no sshd on this host (install OpenSSH's server)" >&2; exit 1; }
    mkdir -p "$MACHINE_HOME/root"
    chmod 700 "$MACHINE_HOME"
    if [ ! -s "$key" ] || [ ! -s "$key.pub" ]; then
      rm -f "$key" "$key.pub"
      ssh-keygen -q -t ed25519 -N '' -C "$MACHINE_NAME" -f "$key"
    fi
    cat > "$config" <<CONFIG
ListenAddress $MACHINE_ADDRESS:$MACHINE_PORT
HostKey $key
PidFile $pidfile
AuthorizedKeysFile $AUTHORIZED_KEYS_FILE
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PrintMotd no
AcceptEnv LANG LC_*
SetEnv PLUMBLINE_HOST_ROOT="$MACHINE_HOME/root"
Subsystem sftp internal-sftp
CONFIG
    stop_server
    # sshd insists on its privilege separation folder, even for a one-off server.
    mkdir -p /run/sshd 2>/dev/null || true
    # Without -D, sshd detaches; it writes its pid file once it listens.
    "$sshd" -f "$config" -E "$MACHINE_HOME/sshd.log"
    i=0
    while [ ! -s "$pidfile" ]; do
      i=$((i + 1))
      if [ "$i" -gt 150 ]; then
        echo "$MACHINE_NAME: sshd did not start on $MACHINE_ADDRESS:$MACHINE_PORT within 15 s:" >&2
        tail -n 20 "$MACHINE_HOME/sshd.log" >&2 || true
        exit 1
      fi
      sleep 0.1
    done
    echo "$MACHINE_NAME: sshd listening on $MACHINE_ADDRESS:$MACHINE_PORT (pid $(cat "$pidfile"))"
    ;;
  stop)
    stop_server
    rm -rf "$MACHINE_HOME"
    echo "$MACHINE_NAME: stopped and removed"
    ;;
  *)
    echo "ACTION must be start or stop (got \"$ACTION\")" >&2
    exit 1
    ;;
esac
