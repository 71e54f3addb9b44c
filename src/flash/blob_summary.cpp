#include "flash/blob_summary.hpp"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <algorithm>
#include <ctime>
#include <limits>
#include <memory>
#include <string_view>

#include <fmt/format.h>

namespace espat::flash {
namespace {

using json = nlohmann::json;
using Bio = std::unique_ptr<BIO, decltype(&BIO_free)>;

Bio memory_bio(std::span<const std::uint8_t> bytes) {
  return Bio(BIO_new_mem_buf(bytes.data(), static_cast<int>(bytes.size())), BIO_free);
}

std::string asn1_time(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1) return "?";
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string x509_name(const X509_NAME* n) {
  Bio bio(BIO_new(BIO_s_mem()), BIO_free);
  if (!bio || X509_NAME_print_ex(bio.get(), n, 0, XN_FLAG_RFC2253) < 0) return "?";
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(len));
}

json cert_json(X509* x) {
  return {{"subject", x509_name(X509_get_subject_name(x))},
          {"issuer", x509_name(X509_get_issuer_name(x))},
          {"not_before", asn1_time(X509_get0_notBefore(x))},
          {"not_after", asn1_time(X509_get0_notAfter(x))}};
}

// Refuses every passphrase: OpenSSL's default callback would prompt on the terminal.
int no_passphrase(char*, int, int, void*) { return 0; }

bool fits_int(std::span<const std::uint8_t> bytes) {
  return bytes.size() <= static_cast<std::size_t>(std::numeric_limits<int>::max());
}

std::string hex(std::span<const std::uint8_t> b) {
  std::string s;
  for (auto c : b) s += fmt::format("{}{:02x}", s.empty() ? "" : " ", c);
  return s;
}

bool printable_text(std::span<const std::uint8_t> b) {
  return std::all_of(b.begin(), b.end(), [](std::uint8_t c) { return c >= 0x20 || c == '\n' || c == '\r' || c == '\t'; });
}

}  // namespace

std::string json_text(const json& value, int indent) {
  return value.dump(indent, ' ', false, json::error_handler_t::replace);
}

std::string pem_label(std::span<const std::uint8_t> b) {
  const std::string_view s(reinterpret_cast<const char*>(b.data()), b.size());
  const auto p = s.find("-----BEGIN ");
  if (p == std::string_view::npos) return "";
  const auto e = s.find("-----", p + 11);
  return e == std::string_view::npos ? "" : std::string(s.substr(p + 11, e - p - 11));
}

json summarize_certificates(std::span<const std::uint8_t> bytes) {
  json certs = json::array();
  if (bytes.empty() || !fits_int(bytes)) return certs;
  if (pem_label(bytes).find("CERTIFICATE") != std::string::npos) {
    Bio bio = memory_bio(bytes);
    while (bio) {
      X509* x = PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr);
      if (!x) break;
      certs.push_back(cert_json(x));
      X509_free(x);
    }
  } else if (bytes[0] == 0x30) {
    const unsigned char* p = bytes.data();
    if (X509* x = d2i_X509(nullptr, &p, static_cast<long>(bytes.size()))) {
      certs.push_back(cert_json(x));
      X509_free(x);
    }
  }
  ERR_clear_error();
  return certs;
}

json summarize_private_key(std::span<const std::uint8_t> bytes) {
  if (bytes.empty() || !fits_int(bytes)) return nullptr;
  EVP_PKEY* key = nullptr;
  if (pem_label(bytes).find("PRIVATE KEY") != std::string::npos) {
    if (Bio bio = memory_bio(bytes)) key = PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr);
  } else if (bytes[0] == 0x30) {
    const unsigned char* p = bytes.data();
    key = d2i_AutoPrivateKey(nullptr, &p, static_cast<long>(bytes.size()));
  }
  ERR_clear_error();
  if (!key) return nullptr;
  const char* name = EVP_PKEY_get0_type_name(key);
  json j{{"algorithm", name ? name : "?"}, {"bits", EVP_PKEY_get_bits(key)}};
  EVP_PKEY_free(key);
  return j;
}

json summarize_blob(std::span<const std::uint8_t> bytes) {
  json j{{"size", bytes.size()}, {"hex", hex(bytes.first(std::min(bytes.size(), kHexPreview)))}};
  if (auto certs = summarize_certificates(bytes); !certs.empty()) j["certificates"] = certs;
  if (auto key = summarize_private_key(bytes); !key.is_null()) j["private_key"] = key;
  const auto text = bytes.first(bytes.size() - (!bytes.empty() && bytes.back() == 0));
  if (const auto label = pem_label(bytes); !label.empty()) j["pem"] = label;
  else if (!bytes.empty() && printable_text(text)) j["text"] = std::string(text.begin(), text.end());
  return j;
}

std::string blob_text(const json& b, const std::string& indent) {
  const std::size_t size = b["size"];
  std::string out = fmt::format("{} bytes", size);
  if (b.contains("pem")) out += fmt::format(", PEM {}", b["pem"].get<std::string>());
  if (b.contains("private_key"))
    out += fmt::format(", {} private key of {} bits", b["private_key"]["algorithm"].get<std::string>(),
                       b["private_key"]["bits"].get<int>());
  else if (b.contains("text")) out += ": " + json_text(b["text"]);
  else if (!b.contains("pem") && size) out += ": " + b["hex"].get<std::string>() + (size > kHexPreview ? " ..." : "");
  out += "\n";
  if (b.contains("certificates"))
    for (const auto& c : b["certificates"])
      out += fmt::format("{}certificate: subject {}; issuer {}; valid {} to {}\n", indent, c["subject"].get<std::string>(),
                         c["issuer"].get<std::string>(), c["not_before"].get<std::string>(),
                         c["not_after"].get<std::string>());
  return out;
}

}  // namespace espat::flash
