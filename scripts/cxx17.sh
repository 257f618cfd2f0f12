#!/usr/bin/env bash
# Compiler wrapper for the Horovod build: its CMake files pin -std=c++11/14, but
# torch's headers need C++17.
args=()
for a in "$@"; do
  case "$a" in -std=c++11|-std=c++14|-std=gnu++11|-std=gnu++14) a=-std=c++17 ;; esac
  args+=("$a")
done
exec "${REAL_CXX:-g++}" "${args[@]}"
