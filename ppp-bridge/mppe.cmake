# MPPE (RFC 3078, RFC 3079) and the CCP MPPE option: a static library the PPP plugin's CCP links.
# Included from ppp-bridge/CMakeLists.txt; paths are relative to this file.
if(NOT TARGET PkgConfig::NETTLE)  # the plugin's MS-CHAPv2 may have looked Nettle up already
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(NETTLE REQUIRED IMPORTED_TARGET nettle)
endif()

add_library(pptpkit_mppe STATIC
  ${CMAKE_CURRENT_LIST_DIR}/src/mppe_keys.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/mppe.cc
  ${CMAKE_CURRENT_LIST_DIR}/src/mppe_ccp.cc)
target_include_directories(pptpkit_mppe PUBLIC ${CMAKE_CURRENT_LIST_DIR}/include)
target_link_libraries(pptpkit_mppe PUBLIC pptpkit_core PkgConfig::NETTLE)
pptpkit_warnings(pptpkit_mppe)
