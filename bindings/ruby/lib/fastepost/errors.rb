# SPDX-License-Identifier: MIT
# frozen_string_literal: true

# The exception classes and the error-code helpers (see lib/fastepost.rb).
module Fastepost
  # The exception classes are defined by the extension (one per error code, all under
  # Fastepost::Error < StandardError), so that they exist before anything can raise:
  #
  #   Error            FASTEPOST_ERROR, and codes newer than this binding
  #   NoMemoryError    ENOMEM      InvalidError   EINVALID    NotFoundError  ENOTFOUND
  #   ConflictError    ECONFLICT   ParseError     EPARSE      DatabaseError  EDB
  #   ConnectionError  ECONN       IOError        EIO         ExternalError  EEXTERNAL
  #   AuthError        EAUTH       TooBigError    ETOOBIG     NoKeyError     ENOKEY
  #   VersionError     EVERSION    CanceledError  ECANCELED   BusyError      EBUSY
  #   TimeoutError     ETIMEOUT    FullError      EFULL       ReadOnlyError  EREADONLY
  #
  # Each class has CODE; each exception #code, #sqlstate ("" unless from the server), #message.
  # (Inside `module Fastepost`, IOError means Fastepost::IOError: write ::IOError for Ruby's.)
  class Error
    def inspect
      "#<#{self.class.name}: #{message} (#{Core.error_name(code)}#{sqlstate.empty? ? '' : " #{sqlstate}"})>"
    end
  end

  # Fixed English text for an error code (Fastepost::Core::EDB ...).
  def self.strerror(code) = Core.strerror(code)

  # The symbolic name of an error code, e.g. "FASTEPOST_EDB".
  def self.error_name(code) = Core.error_name(code)
end
