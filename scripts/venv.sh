# Sourced by the scripts: create .venv (installing Debian's python3-venv when
# running as root on a machine that lacks it) and install the project into it.
PY=${PYTHON:-python3}

ensure_venv() {
    local extras=$1
    if [ ! -x .venv/bin/python ]; then
        if ! "$PY" -m venv .venv 2>/dev/null; then
            rm -rf .venv
            if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
                apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
                "$PY" -m venv .venv
            else
                echo "error: '$PY -m venv' failed; install python3-venv (Debian: apt-get install python3-venv)" >&2
                exit 2
            fi
        fi
    fi
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e "$extras"
}
