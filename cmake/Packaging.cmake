# .deb packages: `cpack -G DEB` in a build directory makes nebula-bot_<v>_<arch>.deb and
# nebula-gateway_<v>_<arch>.deb (one component each): the binary in /usr/bin, the systemd unit in
# /lib/systemd/system, the example configuration in /etc/nebulalinks and docs/operations.md in
# /usr/share/doc/<package>. Depends are computed from the binaries by dpkg-shlibdeps.
if(NOT TARGET nebula-bot OR NOT TARGET nebula-gateway)
  return()
endif()

install(TARGETS nebula-bot RUNTIME DESTINATION bin COMPONENT bot)
install(TARGETS nebula-gateway RUNTIME DESTINATION bin COMPONENT gateway)
foreach(part bot gateway)
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/nebula-${part}.service DESTINATION /lib/systemd/system COMPONENT ${part})
  install(FILES ${PROJECT_SOURCE_DIR}/deploy/${part}.env.example DESTINATION /etc/nebulalinks COMPONENT ${part})
  install(FILES ${PROJECT_SOURCE_DIR}/docs/operations.md DESTINATION share/doc/nebula-${part} COMPONENT ${part})
endforeach()

# The example configuration is a conffile: an upgrade never overwrites an edited copy silently.
foreach(part bot gateway)
  file(WRITE ${CMAKE_BINARY_DIR}/packaging/${part}/conffiles "/etc/nebulalinks/${part}.env.example\n")
endforeach()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME nebulalinks)
set(CPACK_PACKAGE_VENDOR NebulaLinks)
set(CPACK_PACKAGE_CONTACT "NebulaLinks operators <ops@nebulalinks.invalid>")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_COMPONENTS_ALL bot gateway)
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS OFF)
# Debug symbols stay in the build tree; the packages carry stripped binaries.
set(CPACK_STRIP_FILES ON)

set(CPACK_DEBIAN_BOT_PACKAGE_NAME nebula-bot)
set(CPACK_COMPONENT_BOT_DESCRIPTION "NebulaLinks Discord bot: sells VPN access through Discord")
# Charts are drawn in Noto Sans (Latin and Arabic), found through fontconfig; DejaVu Sans is the fallback.
set(CPACK_DEBIAN_BOT_PACKAGE_DEPENDS "adduser, tzdata, fonts-noto-core, fonts-dejavu-core")
set(CPACK_DEBIAN_BOT_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/nebula-bot/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/nebula-bot/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/nebula-bot/postrm
    ${CMAKE_BINARY_DIR}/packaging/bot/conffiles)

set(CPACK_DEBIAN_GATEWAY_PACKAGE_NAME nebula-gateway)
set(CPACK_COMPONENT_GATEWAY_DESCRIPTION "NebulaLinks gateway: signed HTTPS API in front of a 3x-ui panel")
set(CPACK_DEBIAN_GATEWAY_PACKAGE_DEPENDS "adduser")
set(CPACK_DEBIAN_GATEWAY_PACKAGE_CONTROL_EXTRA
    ${PROJECT_SOURCE_DIR}/deploy/debian/nebula-gateway/postinst
    ${PROJECT_SOURCE_DIR}/deploy/debian/nebula-gateway/prerm
    ${PROJECT_SOURCE_DIR}/deploy/debian/nebula-gateway/postrm
    ${CMAKE_BINARY_DIR}/packaging/gateway/conffiles)

include(CPack)
