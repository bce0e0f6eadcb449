add_executable(wsgatectl
	${CMAKE_CURRENT_SOURCE_DIR}/wsgatectl.c
	${CMAKE_CURRENT_SOURCE_DIR}/ctl_init.c
	${CMAKE_CURRENT_SOURCE_DIR}/ctl_user.c
	${CMAKE_CURRENT_SOURCE_DIR}/ctl_project.c
	${CMAKE_CURRENT_SOURCE_DIR}/ctl_audit.c)
target_link_libraries(wsgatectl PRIVATE wsgate_transfer wsgate_auth wsgate_policy wsgate_common
	PkgConfig::QRENCODE PkgConfig::JANSSON PkgConfig::LIBSSH)
