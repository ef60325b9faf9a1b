#!/usr/bin/env bash
# The .deb packages: cpack (DEB, one package per component) on the already-built binaries into a
# scratch folder, each package extracted with dpkg-deb -x into a scratch root, and the binary
# there run with --version. Also checks the unit, the example configuration, the maintainer
# scripts and the runtime Depends.
# In a sanitizer build (SANITIZED=1) the binaries are several hundred MB with thousands of
# undefined symbols: dpkg-shlibdeps alone takes a minute there, so the runtime Depends are only
# computed and checked in ordinary builds, and the packages are left uncompressed.
# usage: package_test.sh BUILD_DIR SANITIZED
set -euo pipefail
build="$1"
sanitized="${2:-0}"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

options=()
if [ "$sanitized" = "1" ]; then
    options=(-D CPACK_DEBIAN_PACKAGE_SHLIBDEPS=OFF -D CPACK_DEBIAN_COMPRESSION_TYPE=none)
fi
if ! cpack --config "$build/CPackConfig.cmake" -G DEB -B "$scratch/out" "${options[@]}" >"$scratch/cpack.log" 2>&1; then
    cat "$scratch/cpack.log"
    exit 1
fi

declare -A config=([nebula-bot]=bot.env.example [nebula-gateway]=gateway.env.example)
declare -A state=([nebula-bot]="/var/lib/nebula-bot /var/log/nebula-bot" [nebula-gateway]="/var/log/nebula-gateway")
for pkg in nebula-bot nebula-gateway; do
    debs=("$scratch/out/${pkg}_"*.deb)
    [ -f "${debs[0]}" ] || { echo "FAIL $pkg: no .deb made"; ls "$scratch/out"; exit 1; }
    deb="${debs[0]}"
    root="$scratch/root-$pkg"
    dpkg-deb -x "$deb" "$root"

    version="$("$root/usr/bin/$pkg" --version)"
    [[ "$version" == "$pkg "* ]] || { echo "FAIL $pkg: --version printed '$version'"; exit 1; }
    for file in "lib/systemd/system/$pkg.service" "etc/nebulalinks/${config[$pkg]}" \
        "usr/share/doc/$pkg/operations.md"; do
        [ -f "$root/$file" ] || { echo "FAIL $pkg: /$file is missing"; exit 1; }
    done
    # Nothing of the other package, nothing outside the expected places.
    unexpected="$(cd "$root" && find . -type f | grep -v -E "^\./(usr/bin/$pkg|lib/systemd/system/$pkg\.service|etc/nebulalinks/${config[$pkg]}|usr/share/doc/$pkg/operations\.md)$" || true)"
    [ -z "$unexpected" ] || { echo "FAIL $pkg: unexpected files: $unexpected"; exit 1; }

    [ "$(dpkg-deb -f "$deb" Package)" = "$pkg" ] || { echo "FAIL $pkg: wrong Package field"; exit 1; }
    depends="$(dpkg-deb -f "$deb" Depends)"
    libs=(adduser)
    [ "$sanitized" = "1" ] || libs+=(libc6 libssl3 libspdlog1 libnghttp2-14)
    for lib in "${libs[@]}"; do
        [[ "$depends" == *"$lib"* ]] || { echo "FAIL $pkg: Depends lacks $lib: $depends"; exit 1; }
    done
    control="$scratch/control-$pkg"
    dpkg-deb -e "$deb" "$control"
    for script in postinst prerm postrm; do
        [ -x "$control/$script" ] || { echo "FAIL $pkg: no executable $script"; exit 1; }
        sh -n "$control/$script"
    done
    grep -q "/etc/nebulalinks/${config[$pkg]}" "$control/conffiles" || { echo "FAIL $pkg: example not a conffile"; exit 1; }
    # The state folders exist after installation (so `sudo -u $pkg $pkg migrate` works before the
    # first start), owned by the service user, mode 0700.
    grep -q "^ *install -d -m 0700 -o $pkg -g $pkg ${state[$pkg]}$" "$control/postinst" ||
        { echo "FAIL $pkg: postinst does not create ${state[$pkg]} with mode 0700"; exit 1; }
    echo "OK   $pkg: $version; Depends: $depends"
done
