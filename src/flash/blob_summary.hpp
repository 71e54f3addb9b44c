// What a blob holds, summarised for `espat image info`: certificates (PEM or DER) by subject,
// issuer and validity; private keys by algorithm and size only (their content is never shown);
// else its PEM label, its text or its first bytes. Used for mfg_nvs blobs and legacy F1 F1 PKI
// items alike.
#pragma once
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include <nlohmann/json.hpp>

namespace espat::flash {

// Every certificate in the bytes: [{"subject", "issuer", "not_before", "not_after"}] (RFC 2253
// names, ISO 8601 UTC times); empty when the bytes hold none.
nlohmann::json summarize_certificates(std::span<const std::uint8_t> bytes);

// A private key (PEM of any label, or DER): {"algorithm": "RSA", "bits": 2048}; null when the
// bytes hold no key that can be read without a passphrase.
nlohmann::json summarize_private_key(std::span<const std::uint8_t> bytes);

// A value as JSON text; bytes that are not UTF-8 (flash holds any bytes) become U+FFFD instead
// of making nlohmann::json throw.
std::string json_text(const nlohmann::json& value, int indent = -1);

// The PEM label of the first block ("CERTIFICATE", "RSA PRIVATE KEY", ...), or "".
std::string pem_label(std::span<const std::uint8_t> bytes);

inline constexpr std::size_t kHexPreview = 16;  // bytes of a blob shown in hex

// {"size", "hex" (the first kHexPreview bytes), and when found "certificates", "private_key", "pem",
// "text" (printable bytes, without a trailing NUL)}.
nlohmann::json summarize_blob(std::span<const std::uint8_t> bytes);

// summarize_blob's result on one line ("1180 bytes, PEM CERTIFICATE"), then one line per
// certificate, each starting with `indent`.
std::string blob_text(const nlohmann::json& blob, const std::string& indent);

}  // namespace espat::flash
