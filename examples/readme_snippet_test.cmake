# Fails unless README.md quotes SOURCE verbatim, so the walk-through a reader
# copies is the program CI compiles and runs.
file(READ ${README} readme)
file(READ ${SOURCE} source)
string(FIND "${readme}" "${source}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "README.md does not contain ${SOURCE} verbatim; paste the file into its code block")
endif()
