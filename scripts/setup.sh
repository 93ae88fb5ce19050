#!/usr/bin/env bash
# setup.sh installs and starts what hatchet-worker needs on a Debian machine:
# PostgreSQL, RabbitMQ, Debian's Python Celery (with its database and Redis
# result backends), and the MariaDB and Redis servers the connector-validation
# and result-backend tests connect to, and Debian's Chromium, which the web
# console's browser tests drive. It also installs the MinIO server binary
# (built with go install, once); the document tests start their own MinIO
# processes from it. It is idempotent: installed packages are kept and running
# services are left alone.
set -euo pipefail

as_postgres() {
	if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else sudo -u postgres "$@"; fi
}

log() { printf 'setup: %s\n' "$*" >&2; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

# MinIO, the platform's object storage, is a Go module: build it once (about
# 3 minutes, 150 MB), in the background while the packages install. Tests
# start it themselves (internal/testenv.StartMinIO) on a free port with a
# temporary data directory.
MINIO_VERSION=v0.0.0-20260212201848-7aac2a2c5b7c
minio_bin="$(go env GOPATH 2>/dev/null || echo "$HOME/go")/bin/minio"
minio_build=""
if [ -n "${MINIO_BIN:-}" ] || [ -x "$minio_bin" ] || command -v minio >/dev/null; then
	log "minio present"
elif command -v go >/dev/null; then
	log "building minio $MINIO_VERSION in the background (once, about 3 minutes)"
	go install "github.com/minio/minio@$MINIO_VERSION" &
	minio_build=$!
else
	log "go not found: cannot build minio (the document storage tests need it)"
fi

packages=(postgresql rabbitmq-server mariadb-server redis-server python3-celery python3-sqlalchemy python3-psycopg2 python3-redis python3-venv ca-certificates chromium)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ "${#missing[@]}" -gt 0 ]; then
	log "installing ${missing[*]}"
	$SUDO apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
	log "packages present"
fi

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
	local port=$1 name=$2
	for _ in $(seq 1 60); do
		if port_open "$port"; then return 0; fi
		sleep 1
	done
	log "$name did not open port $port"
	return 1
}

if port_open 5432; then
	log "postgresql already running"
else
	log "starting postgresql"
	version=$(ls /etc/postgresql | sort -V | tail -1)
	$SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start
	wait_port 5432 postgresql
fi

if port_open 5672; then
	log "rabbitmq already running"
else
	log "starting rabbitmq"
	$SUDO rabbitmq-server -detached
	wait_port 5672 rabbitmq
fi

if port_open 3306; then
	log "mariadb already running"
else
	log "starting mariadb"
	$SUDO start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
	wait_port 3306 mariadb
fi

if port_open 6379; then
	log "redis already running"
else
	log "starting redis"
	$SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	wait_port 6379 redis
fi

# The service and tests connect as postgres over loopback TCP without a
# password (the default DATABASE_URL). A stock Debian cluster asks for one, so
# allow exactly that connection on a machine where it is refused.
if ! psql -h 127.0.0.1 -U postgres -tAc 'select 1' >/dev/null 2>&1; then
	hba=$(as_postgres psql -tAc 'show hba_file' 2>/dev/null || true)
	if [ -n "$hba" ] && ! grep -q '^host all postgres 127.0.0.1/32 trust' "$hba"; then
		log "allowing passwordless loopback connections for user postgres in $hba"
		$SUDO sed -i '1i host all postgres 127.0.0.1/32 trust' "$hba"
		as_postgres psql -tAc 'select pg_reload_conf()' >/dev/null
	fi
fi

# The connector-validation tests log in to MariaDB as root over loopback TCP
# without a password, as on the project's machines. A stock Debian root uses
# the unix socket only; allow the same on 127.0.0.1.
if ! mariadb -h 127.0.0.1 -u root -e 'select 1' >/dev/null 2>&1; then
	log "allowing passwordless root on 127.0.0.1 for MariaDB"
	$SUDO mariadb -u root -e "CREATE USER IF NOT EXISTS 'root'@'127.0.0.1' IDENTIFIED BY ''; GRANT ALL PRIVILEGES ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION;"
fi

if [ -n "$minio_build" ]; then
	wait "$minio_build" || { log "building minio $MINIO_VERSION failed"; exit 1; }
	log "minio built: $minio_bin"
fi

/usr/bin/python3 -c 'import celery, sqlalchemy, psycopg2, redis, ensurepip' || { log "python3-celery or python3-venv not importable by /usr/bin/python3"; exit 1; }
log "ready: postgres 127.0.0.1:5432, rabbitmq 127.0.0.1:5672, celery $(/usr/bin/python3 -c 'import celery; print(celery.__version__)')"
