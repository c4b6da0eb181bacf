#!/bin/sh
# The image's `nabat` (installed as /usr/local/bin/nabat): the default `run`, every
# `docker exec <container> nabat ...` and the HEALTHCHECK pass through here, and nabat
# itself always runs as the unprivileged user nabat (uid 10001), never as root.
#
# Why root at all: a secret bind-mounted from the host (`-v "$PWD/nabat_keys:..."`, or
# a Compose file secret) keeps its host owner and mode, and a key ring is mode 0600 and
# owned by whoever made it, so uid 10001 cannot read it. Making the ring readable by
# everyone would be worse. So, started as root (the default), this copies each file a
# NABAT_*_FILE variable names into a directory in memory that only root can write,
# as a file only uid 10001 can read, points the variable at the copy, and drops to
# that uid for good (setpriv, no new privileges). A source other users may read is
# still warned about: the copy is private, the file it came from is not.
#
# Started as any other user (`docker run --user 10001`, runAsNonRoot), it changes
# nothing: the secrets must then be readable by that user.
#
# ENTRYPOINT_APP, _UID, _GID and _SECRETS_DIR exist for the tests (tests/test_docker.py).
set -eu

app=${ENTRYPOINT_APP:-/opt/nabat/bin/nabat}
uid=${ENTRYPOINT_UID:-10001}
gid=${ENTRYPOINT_GID:-10001}
# /dev/shm is a tmpfs in every container: the copies never reach a disk.
private=${ENTRYPOINT_SECRETS_DIR:-/dev/shm/nabat}

if [ "$(id -u)" != 0 ]; then
    exec "$app" "$@"
fi

fail() {
    echo "nabat: $*" >&2
    exit 2
}

# The directory is root's: uid 10001 may enter it (group) but neither list it nor add
# to it, so nothing it runs can swap a copy or plant a link for root to follow later
# (a `docker exec` comes here as root again, while the bot is running).
if ! mkdir -m 0710 "$private" 2>/dev/null; then
    if [ -L "$private" ] || [ ! -d "$private" ] || [ "$(stat -c %u "$private")" != 0 ]; then
        fail "cannot make $private, or it is not root's own directory:" \
            "refusing to put secrets there"
    fi
fi
chown "0:$gid" "$private"
chmod 0710 "$private"

# Names only (checked by the pattern, so eval below cannot run anything).
for var in $(env | sed -n 's/^\(NABAT_[A-Z0-9_]*_FILE\)=.*/\1/p'); do
    eval "src=\${$var:-}"
    case $src in
        "" | "$private"/*) continue ;;
    esac
    # A missing file is left to nabat, whose message names the setting.
    [ -f "$src" ] || continue
    dst="$private/$var"
    if ! cmp -s "$src" "$dst" 2>/dev/null; then
        tmp="$private/.$var.$$"
        # Made as root's, then given away: chown needs only CAP_CHOWN (no CAP_FOWNER).
        if ! { install -m 0400 "$src" "$tmp" && chown "$uid:$gid" "$tmp"; }; then
            rm -f "$tmp"
            fail "$var: cannot copy $src"
        fi
        mv -f "$tmp" "$dst"
        mode=$(stat -L -c %a "$src")
        if [ $((0$mode & 077)) -ne 0 ]; then
            echo "nabat: warning: $var: $src is readable by other users (mode $mode):" \
                "chmod 600 it where it comes from; nabat reads a private copy" >&2
        fi
    fi
    export "$var=$dst"
done

exec setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs -- "$app" "$@"
