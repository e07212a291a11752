# The API's OpenAPI document and reference page, where bankd finds them:
# share/bankd/api next to bin/, in the build tree as when installed.
#
#   openapi.yaml  docs/openapi.yaml as it is; always there
#   openapi.json  the same document as JSON     } made with the npm tools in
#   docs.html     the HTML reference (Redoc)    } tools/npm (scripts/npm-tools.sh);
#                                                 without them bankd answers 404
#
# Sets BANKD_API_TOOLS (TRUE when the npm tools were found), NODE_EXECUTABLE
# and BANKD_BUILD_API_DIR for the tests.

set(BANKD_BUILD_API_DIR ${PROJECT_BINARY_DIR}/share/bankd/api)
set(BANKD_API_SPEC ${PROJECT_SOURCE_DIR}/docs/openapi.yaml)
set(BANKD_API_LINT_CONFIG ${PROJECT_SOURCE_DIR}/docs/redocly.yaml)
set(BANKD_NPM_DIR ${PROJECT_SOURCE_DIR}/tools/npm)

find_program(NODE_EXECUTABLE node)
set(BANKD_API_TOOLS FALSE)
if(NODE_EXECUTABLE AND EXISTS ${BANKD_NPM_DIR}/node_modules/.bin/redocly)
  set(BANKD_API_TOOLS TRUE)
else()
  message(STATUS "API reference: no npm tools in ${BANKD_NPM_DIR}/node_modules "
                 "(run scripts/npm-tools.sh and configure again); building without "
                 "openapi.json and docs.html, and without the contract tests")
endif()

set(api_outputs ${BANKD_BUILD_API_DIR}/openapi.yaml)
add_custom_command(
  OUTPUT ${BANKD_BUILD_API_DIR}/openapi.yaml
  COMMAND ${CMAKE_COMMAND} -E make_directory ${BANKD_BUILD_API_DIR}
  COMMAND ${CMAKE_COMMAND} -E copy ${BANKD_API_SPEC} ${BANKD_BUILD_API_DIR}/openapi.yaml
  DEPENDS ${BANKD_API_SPEC}
  COMMENT "Copying the OpenAPI document to ${BANKD_BUILD_API_DIR}")
if(BANKD_API_TOOLS)
  add_custom_command(
    OUTPUT ${BANKD_BUILD_API_DIR}/openapi.json ${BANKD_BUILD_API_DIR}/docs.html
    COMMAND ${CMAKE_COMMAND} -E make_directory ${BANKD_BUILD_API_DIR}
    COMMAND ${NODE_EXECUTABLE} ${BANKD_NPM_DIR}/build-api-docs.mjs
            ${BANKD_API_SPEC} ${BANKD_API_LINT_CONFIG} ${BANKD_BUILD_API_DIR}
    DEPENDS ${BANKD_API_SPEC} ${BANKD_API_LINT_CONFIG} ${BANKD_NPM_DIR}/build-api-docs.mjs
            ${BANKD_NPM_DIR}/package-lock.json
    COMMENT "Building openapi.json and the API reference page")
  list(APPEND api_outputs ${BANKD_BUILD_API_DIR}/openapi.json ${BANKD_BUILD_API_DIR}/docs.html)
endif()
add_custom_target(bankd_api_reference ALL DEPENDS ${api_outputs})

install(FILES ${api_outputs} DESTINATION ${CMAKE_INSTALL_DATADIR}/bankd/api)
