# Sourced by scripts/test and scripts/cluster: starts a throwaway PostgreSQL (Debian's package)
# on a free port and exports CONSENT_TEST_POSTGRES_URL, unless it is already set. The caller's
# EXIT trap must call stop_throwaway_postgres. THROWAWAY_PG_FSYNC=on makes its commits durable
# (the benches that measure decisions); tests run without fsync.
throwaway_pg_dir=""
start_throwaway_postgres() {
  [ -n "${CONSENT_TEST_POSTGRES_URL:-}" ] && return 0
  throwaway_pg_bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  # mktemp's own template (tmp.*); the suffix names whose it is.
  throwaway_pg_dir=$(mktemp -d --suffix=.zc-pg)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  throwaway_as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    # initdb refuses to run as root.
    chown postgres: "$throwaway_pg_dir"
    throwaway_as_pg=(runuser -u postgres --)
  fi
  "${throwaway_as_pg[@]}" "$throwaway_pg_bin/initdb" -D "$throwaway_pg_dir/data" -A trust -U postgres >/dev/null
  "${throwaway_as_pg[@]}" "$throwaway_pg_bin/pg_ctl" -D "$throwaway_pg_dir/data" \
    -o "-p $port -k $throwaway_pg_dir -c listen_addresses=127.0.0.1 -c fsync=${THROWAWAY_PG_FSYNC:-off} -c max_connections=200" \
    -l "$throwaway_pg_dir/log" -w start >/dev/null
  export CONSENT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$port/postgres"
}
stop_throwaway_postgres() {
  [ -n "$throwaway_pg_dir" ] || return 0
  "${throwaway_as_pg[@]}" "$throwaway_pg_bin/pg_ctl" -D "$throwaway_pg_dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$throwaway_pg_dir"
}
