# The Debian package: install() rules and CPack settings. Nothing here is
# built by default, and packaging builds nothing either (install does not
# depend on `all`, so making a package never builds the tests): build the two
# binaries, then package them,
#
#   cmake --build build --target congvand congvan
#   cd build && cpack -G DEB -B /tmp/deb       # → /tmp/deb/congvan_<version>_<arch>.deb
#
# The package installs under /usr (CPACK_PACKAGING_INSTALL_PREFIX), whatever
# CMAKE_INSTALL_PREFIX says; the systemd unit names /usr/bin/congvand.
#
#   /usr/bin/congvand, /usr/bin/congvan
#   /lib/systemd/system/congvand@.service          one instance per agency (deploy/systemd/)
#   /usr/share/doc/congvan/examples/node.toml      a node.toml for that unit
#   /usr/share/congvan/topologies/sample.toml      the sample topology (congvan pki init)
#   /usr/share/congvan/local-cluster.sh            every node of a dev PKI on 127.0.0.1
#
# Maintainer scripts (deploy/debian/): the congvan user, /etc/congvan and
# /var/lib/congvan; systemctl daemon-reload when systemd runs; no unit is
# ever started by the package. Checked by tests/deploy/package_test.sh.

set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

if(TARGET congvand)
  install(TARGETS congvand RUNTIME DESTINATION bin)
endif()
install(TARGETS congvan RUNTIME DESTINATION bin)
# Debian 12 ships units in /lib/systemd/system (both paths work with merged /usr).
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/congvand@.service
        DESTINATION /lib/systemd/system)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/systemd/node.toml
        DESTINATION share/doc/congvan/examples)
install(FILES ${PROJECT_SOURCE_DIR}/deploy/topologies/sample.toml
        DESTINATION share/congvan/topologies)
install(PROGRAMS ${PROJECT_SOURCE_DIR}/deploy/local-cluster.sh
        DESTINATION share/congvan)

set(CPACK_PACKAGE_NAME congvan)
set(CPACK_PACKAGE_VENDOR "congvan")
set(CPACK_PACKAGE_CONTACT "congvan maintainers <congvan@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "official-document exchange node for Vietnamese government agencies")
# The control file's long description: CPack indents each line.
set(CPACK_PACKAGE_DESCRIPTION [=[
congvan delivers official documents (công văn) between the nodes of
government agencies, signed by their leaders and sealed by their agencies,
with signed receipts and a tamper-evident, timestamped audit log that
standard tools (openssl) verify offline.
.
This package holds the node (congvand, with a systemd unit per agency), the
congvan command-line tool for clerks, leaders, auditors and operators, and a
dev PKI and sample topology for trying a whole hierarchy on one machine.]=])
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# The binaries go in stripped, as Debian's own packages do.
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${CPACK_PACKAGE_CONTACT}")
# The shared libraries' packages (libgrpc++, libssl3, librocksdb, ...) come from
# dpkg-shlibdeps; adduser is for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
# softhsm2: `congvan pki init` makes SoftHSM2 tokens for the people who sign on a
# token (a production seal may be on a vendor's token instead). openssl: the
# independent verifier of signatures, timestamps and evidence.
set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "softhsm2, openssl")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/postrm)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# Only the DEB generator is meant; `cpack` alone makes the .deb.
set(CPACK_GENERATOR DEB)
include(CPack)
