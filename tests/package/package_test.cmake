# Installs the built rudp into a scratch prefix, then configures, builds and
# runs the consumer against it with find_package, and again with
# add_subdirectory on the source tree. Run with cmake -P, given SOURCE_DIR,
# BUILD_DIR, WORK_DIR, CXX_COMPILER and GENERATOR.
foreach(var SOURCE_DIR BUILD_DIR WORK_DIR CXX_COMPILER GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "package_test.cmake needs -D${var}=...")
  endif()
endforeach()

function(run)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE status)
  if(NOT status EQUAL 0)
    message(FATAL_ERROR "failed (${status}): ${ARGN}")
  endif()
endfunction()

file(REMOVE_RECURSE ${WORK_DIR})
run(${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${WORK_DIR}/prefix)

set(consumer ${SOURCE_DIR}/tests/package/consumer)
run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/installed -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DCMAKE_PREFIX_PATH=${WORK_DIR}/prefix)
run(${CMAKE_COMMAND} --build ${WORK_DIR}/installed)
run(${WORK_DIR}/installed/consumer)
if(EXISTS ${WORK_DIR}/installed/asio_consumer)
  run(${WORK_DIR}/installed/asio_consumer)
endif()

run(${CMAKE_COMMAND} -S ${consumer} -B ${WORK_DIR}/subdirectory -G ${GENERATOR}
    -DCMAKE_CXX_COMPILER=${CXX_COMPILER} -DRUDP_SOURCE_DIR=${SOURCE_DIR})
run(${CMAKE_COMMAND} --build ${WORK_DIR}/subdirectory)
run(${WORK_DIR}/subdirectory/consumer)
if(EXISTS ${WORK_DIR}/subdirectory/asio_consumer)
  run(${WORK_DIR}/subdirectory/asio_consumer)
endif()
