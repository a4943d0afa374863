# Generates the C source of the BIP-39 English word list from common/data/bip39_english.txt,
# so that binaries need no data file at run time. Run as
#   cmake -DIN=<bip39_english.txt> -DOUT=<bip39_english.c> -P bip39_wordlist.cmake
# The list must be exactly 2048 distinct lower-case words of 3..8 letters in ascending
# order, as BIP-39 publishes it; anything else fails the build.
file(STRINGS "${IN}" _words)
list(LENGTH _words _count)
if(NOT _count EQUAL 2048)
  message(FATAL_ERROR "${IN}: expected 2048 words, found ${_count}")
endif()
set(_body "")
set(_prev "")
foreach(_w IN LISTS _words)
  if(NOT _w MATCHES "^[a-z][a-z][a-z][a-z]?[a-z]?[a-z]?[a-z]?[a-z]?$")
    message(FATAL_ERROR "${IN}: bad word '${_w}'")
  endif()
  if(NOT _prev STREQUAL "" AND NOT _prev STRLESS _w)
    message(FATAL_ERROR "${IN}: '${_w}' is out of order")
  endif()
  set(_prev "${_w}")
  string(APPEND _body "    \"${_w}\",\n")
endforeach()
file(WRITE "${OUT}.tmp"
  "/* bip39_english.c - generated from common/data/bip39_english.txt by\n"
  " * common/cmake/bip39_wordlist.cmake; do not edit. */\n"
  "#include \"txlane/bip39.h\"\n\n"
  "const char bip39_english[BIP39_WORDLIST_LEN][BIP39_WORD_MAX + 1] = {\n"
  "${_body}};\n")
file(RENAME "${OUT}.tmp" "${OUT}")
