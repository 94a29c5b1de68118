#include "merge/query/selector_parser.h"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "merge/labels.h"

namespace fedgate {
namespace {

// ---------------------------------------------------------------------------
// Go text conventions. Prometheus builds its messages with Go's fmt verbs
// (%q on strings and runes, %#U on runes), so the same bytes are produced
// here.

constexpr int32_t kEndOfInput = -1;
constexpr int32_t kRuneError = 0xFFFD;
constexpr int32_t kMaxRune = 0x10FFFF;

struct Rune {
  int32_t value;  // kEndOfInput at the end; kRuneError for a bad byte.
  size_t width;   // Bytes taken: 0 at the end, 1 for a bad byte.
};

bool IsSurrogate(int32_t r) { return r >= 0xD800 && r < 0xE000; }
bool IsValidRune(int32_t r) {
  return r >= 0 && r <= kMaxRune && !IsSurrogate(r);
}

// Decodes the rune at `pos` the way Go's utf8.DecodeRuneInString does: any
// invalid, overlong, surrogate or truncated sequence is one bad byte.
Rune DecodeRune(absl::string_view s, size_t pos) {
  if (pos >= s.size()) return {kEndOfInput, 0};
  const unsigned char lead = static_cast<unsigned char>(s[pos]);
  if (lead < 0x80) return {lead, 1};
  size_t len = 0;
  int32_t value = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // Allowed range of the second byte.
  if (lead >= 0xC2 && lead <= 0xDF) {
    len = 2;
    value = lead & 0x1F;
  } else if (lead >= 0xE0 && lead <= 0xEF) {
    len = 3;
    value = lead & 0x0F;
    if (lead == 0xE0) lo = 0xA0;
    if (lead == 0xED) hi = 0x9F;
  } else if (lead >= 0xF0 && lead <= 0xF4) {
    len = 4;
    value = lead & 0x07;
    if (lead == 0xF0) lo = 0x90;
    if (lead == 0xF4) hi = 0x8F;
  } else {
    return {kRuneError, 1};
  }
  if (pos + len > s.size()) return {kRuneError, 1};
  for (size_t k = 1; k < len; ++k) {
    const unsigned char b = static_cast<unsigned char>(s[pos + k]);
    if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xBF)) {
      return {kRuneError, 1};
    }
    value = (value << 6) | (b & 0x3F);
  }
  return {value, len};
}

void AppendUtf8(std::string* out, int32_t r) {
  const uint32_t u = static_cast<uint32_t>(r);
  if (u < 0x80) {
    out->push_back(static_cast<char>(u));
  } else if (u < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (u >> 6)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else if (u < 0x10000) {
    out->push_back(static_cast<char>(0xE0 | (u >> 12)));
    out->push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xF0 | (u >> 18)));
    out->push_back(static_cast<char>(0x80 | ((u >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((u >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (u & 0x3F)));
  }
}

// The code points above U+00FF that Go 1.19's strconv.IsPrint accepts:
// categories L, M, N, P and S of Unicode 13.0 (Go's version until 1.21),
// generated from Python 3.10's unicodedata (also 13.0). Half-open ranges
// [kPrintableBounds[2i], kPrintableBounds[2i+1]).
constexpr int32_t kPrintableBounds[] = {
    0x100,   0x378,   0x37A,   0x380,   0x384,   0x38B,   0x38C,   0x38D,
    0x38E,   0x3A2,   0x3A3,   0x530,   0x531,   0x557,   0x559,   0x58B,
    0x58D,   0x590,   0x591,   0x5C8,   0x5D0,   0x5EB,   0x5EF,   0x5F5,
    0x606,   0x61C,   0x61E,   0x6DD,   0x6DE,   0x70E,   0x710,   0x74B,
    0x74D,   0x7B2,   0x7C0,   0x7FB,   0x7FD,   0x82E,   0x830,   0x83F,
    0x840,   0x85C,   0x85E,   0x85F,   0x860,   0x86B,   0x8A0,   0x8B5,
    0x8B6,   0x8C8,   0x8D3,   0x8E2,   0x8E3,   0x984,   0x985,   0x98D,
    0x98F,   0x991,   0x993,   0x9A9,   0x9AA,   0x9B1,   0x9B2,   0x9B3,
    0x9B6,   0x9BA,   0x9BC,   0x9C5,   0x9C7,   0x9C9,   0x9CB,   0x9CF,
    0x9D7,   0x9D8,   0x9DC,   0x9DE,   0x9DF,   0x9E4,   0x9E6,   0x9FF,
    0xA01,   0xA04,   0xA05,   0xA0B,   0xA0F,   0xA11,   0xA13,   0xA29,
    0xA2A,   0xA31,   0xA32,   0xA34,   0xA35,   0xA37,   0xA38,   0xA3A,
    0xA3C,   0xA3D,   0xA3E,   0xA43,   0xA47,   0xA49,   0xA4B,   0xA4E,
    0xA51,   0xA52,   0xA59,   0xA5D,   0xA5E,   0xA5F,   0xA66,   0xA77,
    0xA81,   0xA84,   0xA85,   0xA8E,   0xA8F,   0xA92,   0xA93,   0xAA9,
    0xAAA,   0xAB1,   0xAB2,   0xAB4,   0xAB5,   0xABA,   0xABC,   0xAC6,
    0xAC7,   0xACA,   0xACB,   0xACE,   0xAD0,   0xAD1,   0xAE0,   0xAE4,
    0xAE6,   0xAF2,   0xAF9,   0xB00,   0xB01,   0xB04,   0xB05,   0xB0D,
    0xB0F,   0xB11,   0xB13,   0xB29,   0xB2A,   0xB31,   0xB32,   0xB34,
    0xB35,   0xB3A,   0xB3C,   0xB45,   0xB47,   0xB49,   0xB4B,   0xB4E,
    0xB55,   0xB58,   0xB5C,   0xB5E,   0xB5F,   0xB64,   0xB66,   0xB78,
    0xB82,   0xB84,   0xB85,   0xB8B,   0xB8E,   0xB91,   0xB92,   0xB96,
    0xB99,   0xB9B,   0xB9C,   0xB9D,   0xB9E,   0xBA0,   0xBA3,   0xBA5,
    0xBA8,   0xBAB,   0xBAE,   0xBBA,   0xBBE,   0xBC3,   0xBC6,   0xBC9,
    0xBCA,   0xBCE,   0xBD0,   0xBD1,   0xBD7,   0xBD8,   0xBE6,   0xBFB,
    0xC00,   0xC0D,   0xC0E,   0xC11,   0xC12,   0xC29,   0xC2A,   0xC3A,
    0xC3D,   0xC45,   0xC46,   0xC49,   0xC4A,   0xC4E,   0xC55,   0xC57,
    0xC58,   0xC5B,   0xC60,   0xC64,   0xC66,   0xC70,   0xC77,   0xC8D,
    0xC8E,   0xC91,   0xC92,   0xCA9,   0xCAA,   0xCB4,   0xCB5,   0xCBA,
    0xCBC,   0xCC5,   0xCC6,   0xCC9,   0xCCA,   0xCCE,   0xCD5,   0xCD7,
    0xCDE,   0xCDF,   0xCE0,   0xCE4,   0xCE6,   0xCF0,   0xCF1,   0xCF3,
    0xD00,   0xD0D,   0xD0E,   0xD11,   0xD12,   0xD45,   0xD46,   0xD49,
    0xD4A,   0xD50,   0xD54,   0xD64,   0xD66,   0xD80,   0xD81,   0xD84,
    0xD85,   0xD97,   0xD9A,   0xDB2,   0xDB3,   0xDBC,   0xDBD,   0xDBE,
    0xDC0,   0xDC7,   0xDCA,   0xDCB,   0xDCF,   0xDD5,   0xDD6,   0xDD7,
    0xDD8,   0xDE0,   0xDE6,   0xDF0,   0xDF2,   0xDF5,   0xE01,   0xE3B,
    0xE3F,   0xE5C,   0xE81,   0xE83,   0xE84,   0xE85,   0xE86,   0xE8B,
    0xE8C,   0xEA4,   0xEA5,   0xEA6,   0xEA7,   0xEBE,   0xEC0,   0xEC5,
    0xEC6,   0xEC7,   0xEC8,   0xECE,   0xED0,   0xEDA,   0xEDC,   0xEE0,
    0xF00,   0xF48,   0xF49,   0xF6D,   0xF71,   0xF98,   0xF99,   0xFBD,
    0xFBE,   0xFCD,   0xFCE,   0xFDB,   0x1000,  0x10C6,  0x10C7,  0x10C8,
    0x10CD,  0x10CE,  0x10D0,  0x1249,  0x124A,  0x124E,  0x1250,  0x1257,
    0x1258,  0x1259,  0x125A,  0x125E,  0x1260,  0x1289,  0x128A,  0x128E,
    0x1290,  0x12B1,  0x12B2,  0x12B6,  0x12B8,  0x12BF,  0x12C0,  0x12C1,
    0x12C2,  0x12C6,  0x12C8,  0x12D7,  0x12D8,  0x1311,  0x1312,  0x1316,
    0x1318,  0x135B,  0x135D,  0x137D,  0x1380,  0x139A,  0x13A0,  0x13F6,
    0x13F8,  0x13FE,  0x1400,  0x1680,  0x1681,  0x169D,  0x16A0,  0x16F9,
    0x1700,  0x170D,  0x170E,  0x1715,  0x1720,  0x1737,  0x1740,  0x1754,
    0x1760,  0x176D,  0x176E,  0x1771,  0x1772,  0x1774,  0x1780,  0x17DE,
    0x17E0,  0x17EA,  0x17F0,  0x17FA,  0x1800,  0x180E,  0x1810,  0x181A,
    0x1820,  0x1879,  0x1880,  0x18AB,  0x18B0,  0x18F6,  0x1900,  0x191F,
    0x1920,  0x192C,  0x1930,  0x193C,  0x1940,  0x1941,  0x1944,  0x196E,
    0x1970,  0x1975,  0x1980,  0x19AC,  0x19B0,  0x19CA,  0x19D0,  0x19DB,
    0x19DE,  0x1A1C,  0x1A1E,  0x1A5F,  0x1A60,  0x1A7D,  0x1A7F,  0x1A8A,
    0x1A90,  0x1A9A,  0x1AA0,  0x1AAE,  0x1AB0,  0x1AC1,  0x1B00,  0x1B4C,
    0x1B50,  0x1B7D,  0x1B80,  0x1BF4,  0x1BFC,  0x1C38,  0x1C3B,  0x1C4A,
    0x1C4D,  0x1C89,  0x1C90,  0x1CBB,  0x1CBD,  0x1CC8,  0x1CD0,  0x1CFB,
    0x1D00,  0x1DFA,  0x1DFB,  0x1F16,  0x1F18,  0x1F1E,  0x1F20,  0x1F46,
    0x1F48,  0x1F4E,  0x1F50,  0x1F58,  0x1F59,  0x1F5A,  0x1F5B,  0x1F5C,
    0x1F5D,  0x1F5E,  0x1F5F,  0x1F7E,  0x1F80,  0x1FB5,  0x1FB6,  0x1FC5,
    0x1FC6,  0x1FD4,  0x1FD6,  0x1FDC,  0x1FDD,  0x1FF0,  0x1FF2,  0x1FF5,
    0x1FF6,  0x1FFF,  0x2010,  0x2028,  0x2030,  0x205F,  0x2070,  0x2072,
    0x2074,  0x208F,  0x2090,  0x209D,  0x20A0,  0x20C0,  0x20D0,  0x20F1,
    0x2100,  0x218C,  0x2190,  0x2427,  0x2440,  0x244B,  0x2460,  0x2B74,
    0x2B76,  0x2B96,  0x2B97,  0x2C2F,  0x2C30,  0x2C5F,  0x2C60,  0x2CF4,
    0x2CF9,  0x2D26,  0x2D27,  0x2D28,  0x2D2D,  0x2D2E,  0x2D30,  0x2D68,
    0x2D6F,  0x2D71,  0x2D7F,  0x2D97,  0x2DA0,  0x2DA7,  0x2DA8,  0x2DAF,
    0x2DB0,  0x2DB7,  0x2DB8,  0x2DBF,  0x2DC0,  0x2DC7,  0x2DC8,  0x2DCF,
    0x2DD0,  0x2DD7,  0x2DD8,  0x2DDF,  0x2DE0,  0x2E53,  0x2E80,  0x2E9A,
    0x2E9B,  0x2EF4,  0x2F00,  0x2FD6,  0x2FF0,  0x2FFC,  0x3001,  0x3040,
    0x3041,  0x3097,  0x3099,  0x3100,  0x3105,  0x3130,  0x3131,  0x318F,
    0x3190,  0x31E4,  0x31F0,  0x321F,  0x3220,  0x9FFD,  0xA000,  0xA48D,
    0xA490,  0xA4C7,  0xA4D0,  0xA62C,  0xA640,  0xA6F8,  0xA700,  0xA7C0,
    0xA7C2,  0xA7CB,  0xA7F5,  0xA82D,  0xA830,  0xA83A,  0xA840,  0xA878,
    0xA880,  0xA8C6,  0xA8CE,  0xA8DA,  0xA8E0,  0xA954,  0xA95F,  0xA97D,
    0xA980,  0xA9CE,  0xA9CF,  0xA9DA,  0xA9DE,  0xA9FF,  0xAA00,  0xAA37,
    0xAA40,  0xAA4E,  0xAA50,  0xAA5A,  0xAA5C,  0xAAC3,  0xAADB,  0xAAF7,
    0xAB01,  0xAB07,  0xAB09,  0xAB0F,  0xAB11,  0xAB17,  0xAB20,  0xAB27,
    0xAB28,  0xAB2F,  0xAB30,  0xAB6C,  0xAB70,  0xABEE,  0xABF0,  0xABFA,
    0xAC00,  0xD7A4,  0xD7B0,  0xD7C7,  0xD7CB,  0xD7FC,  0xF900,  0xFA6E,
    0xFA70,  0xFADA,  0xFB00,  0xFB07,  0xFB13,  0xFB18,  0xFB1D,  0xFB37,
    0xFB38,  0xFB3D,  0xFB3E,  0xFB3F,  0xFB40,  0xFB42,  0xFB43,  0xFB45,
    0xFB46,  0xFBC2,  0xFBD3,  0xFD40,  0xFD50,  0xFD90,  0xFD92,  0xFDC8,
    0xFDF0,  0xFDFE,  0xFE00,  0xFE1A,  0xFE20,  0xFE53,  0xFE54,  0xFE67,
    0xFE68,  0xFE6C,  0xFE70,  0xFE75,  0xFE76,  0xFEFD,  0xFF01,  0xFFBF,
    0xFFC2,  0xFFC8,  0xFFCA,  0xFFD0,  0xFFD2,  0xFFD8,  0xFFDA,  0xFFDD,
    0xFFE0,  0xFFE7,  0xFFE8,  0xFFEF,  0xFFFC,  0xFFFE,  0x10000, 0x1000C,
    0x1000D, 0x10027, 0x10028, 0x1003B, 0x1003C, 0x1003E, 0x1003F, 0x1004E,
    0x10050, 0x1005E, 0x10080, 0x100FB, 0x10100, 0x10103, 0x10107, 0x10134,
    0x10137, 0x1018F, 0x10190, 0x1019D, 0x101A0, 0x101A1, 0x101D0, 0x101FE,
    0x10280, 0x1029D, 0x102A0, 0x102D1, 0x102E0, 0x102FC, 0x10300, 0x10324,
    0x1032D, 0x1034B, 0x10350, 0x1037B, 0x10380, 0x1039E, 0x1039F, 0x103C4,
    0x103C8, 0x103D6, 0x10400, 0x1049E, 0x104A0, 0x104AA, 0x104B0, 0x104D4,
    0x104D8, 0x104FC, 0x10500, 0x10528, 0x10530, 0x10564, 0x1056F, 0x10570,
    0x10600, 0x10737, 0x10740, 0x10756, 0x10760, 0x10768, 0x10800, 0x10806,
    0x10808, 0x10809, 0x1080A, 0x10836, 0x10837, 0x10839, 0x1083C, 0x1083D,
    0x1083F, 0x10856, 0x10857, 0x1089F, 0x108A7, 0x108B0, 0x108E0, 0x108F3,
    0x108F4, 0x108F6, 0x108FB, 0x1091C, 0x1091F, 0x1093A, 0x1093F, 0x10940,
    0x10980, 0x109B8, 0x109BC, 0x109D0, 0x109D2, 0x10A04, 0x10A05, 0x10A07,
    0x10A0C, 0x10A14, 0x10A15, 0x10A18, 0x10A19, 0x10A36, 0x10A38, 0x10A3B,
    0x10A3F, 0x10A49, 0x10A50, 0x10A59, 0x10A60, 0x10AA0, 0x10AC0, 0x10AE7,
    0x10AEB, 0x10AF7, 0x10B00, 0x10B36, 0x10B39, 0x10B56, 0x10B58, 0x10B73,
    0x10B78, 0x10B92, 0x10B99, 0x10B9D, 0x10BA9, 0x10BB0, 0x10C00, 0x10C49,
    0x10C80, 0x10CB3, 0x10CC0, 0x10CF3, 0x10CFA, 0x10D28, 0x10D30, 0x10D3A,
    0x10E60, 0x10E7F, 0x10E80, 0x10EAA, 0x10EAB, 0x10EAE, 0x10EB0, 0x10EB2,
    0x10F00, 0x10F28, 0x10F30, 0x10F5A, 0x10FB0, 0x10FCC, 0x10FE0, 0x10FF7,
    0x11000, 0x1104E, 0x11052, 0x11070, 0x1107F, 0x110BD, 0x110BE, 0x110C2,
    0x110D0, 0x110E9, 0x110F0, 0x110FA, 0x11100, 0x11135, 0x11136, 0x11148,
    0x11150, 0x11177, 0x11180, 0x111E0, 0x111E1, 0x111F5, 0x11200, 0x11212,
    0x11213, 0x1123F, 0x11280, 0x11287, 0x11288, 0x11289, 0x1128A, 0x1128E,
    0x1128F, 0x1129E, 0x1129F, 0x112AA, 0x112B0, 0x112EB, 0x112F0, 0x112FA,
    0x11300, 0x11304, 0x11305, 0x1130D, 0x1130F, 0x11311, 0x11313, 0x11329,
    0x1132A, 0x11331, 0x11332, 0x11334, 0x11335, 0x1133A, 0x1133B, 0x11345,
    0x11347, 0x11349, 0x1134B, 0x1134E, 0x11350, 0x11351, 0x11357, 0x11358,
    0x1135D, 0x11364, 0x11366, 0x1136D, 0x11370, 0x11375, 0x11400, 0x1145C,
    0x1145D, 0x11462, 0x11480, 0x114C8, 0x114D0, 0x114DA, 0x11580, 0x115B6,
    0x115B8, 0x115DE, 0x11600, 0x11645, 0x11650, 0x1165A, 0x11660, 0x1166D,
    0x11680, 0x116B9, 0x116C0, 0x116CA, 0x11700, 0x1171B, 0x1171D, 0x1172C,
    0x11730, 0x11740, 0x11800, 0x1183C, 0x118A0, 0x118F3, 0x118FF, 0x11907,
    0x11909, 0x1190A, 0x1190C, 0x11914, 0x11915, 0x11917, 0x11918, 0x11936,
    0x11937, 0x11939, 0x1193B, 0x11947, 0x11950, 0x1195A, 0x119A0, 0x119A8,
    0x119AA, 0x119D8, 0x119DA, 0x119E5, 0x11A00, 0x11A48, 0x11A50, 0x11AA3,
    0x11AC0, 0x11AF9, 0x11C00, 0x11C09, 0x11C0A, 0x11C37, 0x11C38, 0x11C46,
    0x11C50, 0x11C6D, 0x11C70, 0x11C90, 0x11C92, 0x11CA8, 0x11CA9, 0x11CB7,
    0x11D00, 0x11D07, 0x11D08, 0x11D0A, 0x11D0B, 0x11D37, 0x11D3A, 0x11D3B,
    0x11D3C, 0x11D3E, 0x11D3F, 0x11D48, 0x11D50, 0x11D5A, 0x11D60, 0x11D66,
    0x11D67, 0x11D69, 0x11D6A, 0x11D8F, 0x11D90, 0x11D92, 0x11D93, 0x11D99,
    0x11DA0, 0x11DAA, 0x11EE0, 0x11EF9, 0x11FB0, 0x11FB1, 0x11FC0, 0x11FF2,
    0x11FFF, 0x1239A, 0x12400, 0x1246F, 0x12470, 0x12475, 0x12480, 0x12544,
    0x13000, 0x1342F, 0x14400, 0x14647, 0x16800, 0x16A39, 0x16A40, 0x16A5F,
    0x16A60, 0x16A6A, 0x16A6E, 0x16A70, 0x16AD0, 0x16AEE, 0x16AF0, 0x16AF6,
    0x16B00, 0x16B46, 0x16B50, 0x16B5A, 0x16B5B, 0x16B62, 0x16B63, 0x16B78,
    0x16B7D, 0x16B90, 0x16E40, 0x16E9B, 0x16F00, 0x16F4B, 0x16F4F, 0x16F88,
    0x16F8F, 0x16FA0, 0x16FE0, 0x16FE5, 0x16FF0, 0x16FF2, 0x17000, 0x187F8,
    0x18800, 0x18CD6, 0x18D00, 0x18D09, 0x1B000, 0x1B11F, 0x1B150, 0x1B153,
    0x1B164, 0x1B168, 0x1B170, 0x1B2FC, 0x1BC00, 0x1BC6B, 0x1BC70, 0x1BC7D,
    0x1BC80, 0x1BC89, 0x1BC90, 0x1BC9A, 0x1BC9C, 0x1BCA0, 0x1D000, 0x1D0F6,
    0x1D100, 0x1D127, 0x1D129, 0x1D173, 0x1D17B, 0x1D1E9, 0x1D200, 0x1D246,
    0x1D2E0, 0x1D2F4, 0x1D300, 0x1D357, 0x1D360, 0x1D379, 0x1D400, 0x1D455,
    0x1D456, 0x1D49D, 0x1D49E, 0x1D4A0, 0x1D4A2, 0x1D4A3, 0x1D4A5, 0x1D4A7,
    0x1D4A9, 0x1D4AD, 0x1D4AE, 0x1D4BA, 0x1D4BB, 0x1D4BC, 0x1D4BD, 0x1D4C4,
    0x1D4C5, 0x1D506, 0x1D507, 0x1D50B, 0x1D50D, 0x1D515, 0x1D516, 0x1D51D,
    0x1D51E, 0x1D53A, 0x1D53B, 0x1D53F, 0x1D540, 0x1D545, 0x1D546, 0x1D547,
    0x1D54A, 0x1D551, 0x1D552, 0x1D6A6, 0x1D6A8, 0x1D7CC, 0x1D7CE, 0x1DA8C,
    0x1DA9B, 0x1DAA0, 0x1DAA1, 0x1DAB0, 0x1E000, 0x1E007, 0x1E008, 0x1E019,
    0x1E01B, 0x1E022, 0x1E023, 0x1E025, 0x1E026, 0x1E02B, 0x1E100, 0x1E12D,
    0x1E130, 0x1E13E, 0x1E140, 0x1E14A, 0x1E14E, 0x1E150, 0x1E2C0, 0x1E2FA,
    0x1E2FF, 0x1E300, 0x1E800, 0x1E8C5, 0x1E8C7, 0x1E8D7, 0x1E900, 0x1E94C,
    0x1E950, 0x1E95A, 0x1E95E, 0x1E960, 0x1EC71, 0x1ECB5, 0x1ED01, 0x1ED3E,
    0x1EE00, 0x1EE04, 0x1EE05, 0x1EE20, 0x1EE21, 0x1EE23, 0x1EE24, 0x1EE25,
    0x1EE27, 0x1EE28, 0x1EE29, 0x1EE33, 0x1EE34, 0x1EE38, 0x1EE39, 0x1EE3A,
    0x1EE3B, 0x1EE3C, 0x1EE42, 0x1EE43, 0x1EE47, 0x1EE48, 0x1EE49, 0x1EE4A,
    0x1EE4B, 0x1EE4C, 0x1EE4D, 0x1EE50, 0x1EE51, 0x1EE53, 0x1EE54, 0x1EE55,
    0x1EE57, 0x1EE58, 0x1EE59, 0x1EE5A, 0x1EE5B, 0x1EE5C, 0x1EE5D, 0x1EE5E,
    0x1EE5F, 0x1EE60, 0x1EE61, 0x1EE63, 0x1EE64, 0x1EE65, 0x1EE67, 0x1EE6B,
    0x1EE6C, 0x1EE73, 0x1EE74, 0x1EE78, 0x1EE79, 0x1EE7D, 0x1EE7E, 0x1EE7F,
    0x1EE80, 0x1EE8A, 0x1EE8B, 0x1EE9C, 0x1EEA1, 0x1EEA4, 0x1EEA5, 0x1EEAA,
    0x1EEAB, 0x1EEBC, 0x1EEF0, 0x1EEF2, 0x1F000, 0x1F02C, 0x1F030, 0x1F094,
    0x1F0A0, 0x1F0AF, 0x1F0B1, 0x1F0C0, 0x1F0C1, 0x1F0D0, 0x1F0D1, 0x1F0F6,
    0x1F100, 0x1F1AE, 0x1F1E6, 0x1F203, 0x1F210, 0x1F23C, 0x1F240, 0x1F249,
    0x1F250, 0x1F252, 0x1F260, 0x1F266, 0x1F300, 0x1F6D8, 0x1F6E0, 0x1F6ED,
    0x1F6F0, 0x1F6FD, 0x1F700, 0x1F774, 0x1F780, 0x1F7D9, 0x1F7E0, 0x1F7EC,
    0x1F800, 0x1F80C, 0x1F810, 0x1F848, 0x1F850, 0x1F85A, 0x1F860, 0x1F888,
    0x1F890, 0x1F8AE, 0x1F8B0, 0x1F8B2, 0x1F900, 0x1F979, 0x1F97A, 0x1F9CC,
    0x1F9CD, 0x1FA54, 0x1FA60, 0x1FA6E, 0x1FA70, 0x1FA75, 0x1FA78, 0x1FA7B,
    0x1FA80, 0x1FA87, 0x1FA90, 0x1FAA9, 0x1FAB0, 0x1FAB7, 0x1FAC0, 0x1FAC3,
    0x1FAD0, 0x1FAD7, 0x1FB00, 0x1FB93, 0x1FB94, 0x1FBCB, 0x1FBF0, 0x1FBFA,
    0x20000, 0x2A6DE, 0x2A700, 0x2B735, 0x2B740, 0x2B81E, 0x2B820, 0x2CEA2,
    0x2CEB0, 0x2EBE1, 0x2F800, 0x2FA1E, 0x30000, 0x3134B, 0xE0100, 0xE01F0};

// Go's strconv.IsPrint: letters, marks, numbers, punctuation, symbols and the
// ASCII space.
bool IsGoPrint(int32_t r) {
  if (!IsValidRune(r)) return false;
  if (r <= 0xFF) {
    return (r >= 0x20 && r <= 0x7E) || (r >= 0xA1 && r != 0xAD);
  }
  // Inside a range exactly when an odd number of bounds are <= r.
  const auto bounds_at_or_below =
      std::upper_bound(std::begin(kPrintableBounds), std::end(kPrintableBounds),
                       r) -
      std::begin(kPrintableBounds);
  return bounds_at_or_below % 2 == 1;
}

// Appends `r` as it appears inside a Go quoted literal delimited by `quote`.
void AppendEscapedRune(std::string* out, int32_t r, char quote) {
  if (r == quote || r == '\\') {
    out->push_back('\\');
    AppendUtf8(out, r);
    return;
  }
  if (IsGoPrint(r)) {
    AppendUtf8(out, r);
    return;
  }
  switch (r) {
    case '\a':
      out->append("\\a");
      return;
    case '\b':
      out->append("\\b");
      return;
    case '\f':
      out->append("\\f");
      return;
    case '\n':
      out->append("\\n");
      return;
    case '\r':
      out->append("\\r");
      return;
    case '\t':
      out->append("\\t");
      return;
    case '\v':
      out->append("\\v");
      return;
    default:
      break;
  }
  if (r < ' ' || r == 0x7F) {
    absl::StrAppendFormat(out, "\\x%02x", r);
    return;
  }
  if (!IsValidRune(r)) r = kRuneError;
  if (r < 0x10000) {
    absl::StrAppendFormat(out, "\\u%04x", r);
  } else {
    absl::StrAppendFormat(out, "\\U%08x", r);
  }
}

// Go's %q of a string (strconv.Quote): bad bytes become \xNN.
std::string GoQuote(absl::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    const Rune r = DecodeRune(s, i);
    if (r.value == kRuneError && r.width == 1) {
      absl::StrAppendFormat(&out, "\\x%02x", static_cast<unsigned char>(s[i]));
    } else {
      AppendEscapedRune(&out, r.value, '"');
    }
    i += r.width;
  }
  out.push_back('"');
  return out;
}

// Go's %q of a rune (strconv.QuoteRune); the end of input (-1) prints as
// U+FFFD, like any invalid rune.
std::string GoQuoteRune(int32_t r) {
  if (!IsValidRune(r)) r = kRuneError;
  std::string out = "'";
  AppendEscapedRune(&out, r, '\'');
  out.push_back('\'');
  return out;
}

// Go's %#U: `U+0071 'q'`, without the quoted form for unprintable runes.
std::string GoUnicode(int32_t r) {
  std::string out = absl::StrFormat("U+%04X", static_cast<uint32_t>(r));
  if (IsGoPrint(r)) {
    out.append(" '");
    AppendUtf8(&out, r);
    out.push_back('\'');
  }
  return out;
}

// Go's %.10q followed by "..." for texts over 10 bytes, as PromQL prints the
// text of strings, numbers and durations: truncated to 10 runes.
std::string QuoteTokenText(absl::string_view text) {
  if (text.size() <= 10) return GoQuote(text);
  size_t end = 0;
  for (int runes = 0; runes < 10 && end < text.size(); ++runes) {
    end += DecodeRune(text, end).width;
  }
  return absl::StrCat(GoQuote(text.substr(0, end)), "...");
}

// ---------------------------------------------------------------------------
// Tokens.

enum class TokenKind {
  kEof,
  kError,  // A lexer error; `Token::error` holds the message.
  kIdentifier,
  kMetricIdentifier,  // An identifier containing ':'.
  kString,
  kNumber,
  kDuration,
  kLeftBrace,
  kRightBrace,
  kLeftParen,
  kLeftBracket,
  kComma,
  kEqual,
  kNotEqual,
  kRegexMatch,
  kRegexNoMatch,
  kOperator,      // Any other operator; printed `<op:text>`.
  kAt,            // `@`: an operator missing from 2.42's token name table.
  kAggregator,    // `sum`, `topk`, ...; printed `<aggr:text>`.
  kKeyword,       // `by`, `on`, `offset`, ...; printed `<text>`.
  kPreprocessor,  // `start`, `end`; printed `"text"`.
};

struct Token {
  TokenKind kind = TokenKind::kEof;
  size_t pos = 0;            // Byte offset in the input.
  absl::string_view text;    // The token's bytes (with quotes for strings).
  bool metric_name = false;  // Accepted as a metric name outside braces.
  std::string error;         // Message of a kError token.
};

struct Keyword {
  absl::string_view word;  // Lower case; matched case-insensitively.
  TokenKind kind;
  bool metric_name;  // Whether 2.42's `metric_identifier` rule accepts it.
};

// PromQL 2.42's keywords. Those with `metric_name` may also name a metric
// (`sum`, `offset`, `start`); `on`, `bool`, `atan2`, ... may not, and `inf` /
// `nan` are numbers.
constexpr Keyword kKeywords[] = {
    {"and", TokenKind::kOperator, true},
    {"or", TokenKind::kOperator, true},
    {"unless", TokenKind::kOperator, true},
    {"atan2", TokenKind::kOperator, false},
    {"avg", TokenKind::kAggregator, true},
    {"bottomk", TokenKind::kAggregator, true},
    {"count", TokenKind::kAggregator, true},
    {"count_values", TokenKind::kAggregator, true},
    {"group", TokenKind::kAggregator, true},
    {"max", TokenKind::kAggregator, true},
    {"min", TokenKind::kAggregator, true},
    {"quantile", TokenKind::kAggregator, true},
    {"stddev", TokenKind::kAggregator, true},
    {"stdvar", TokenKind::kAggregator, true},
    {"sum", TokenKind::kAggregator, true},
    {"topk", TokenKind::kAggregator, true},
    {"bool", TokenKind::kKeyword, false},
    {"by", TokenKind::kKeyword, true},
    {"group_left", TokenKind::kKeyword, false},
    {"group_right", TokenKind::kKeyword, false},
    {"ignoring", TokenKind::kKeyword, false},
    {"offset", TokenKind::kKeyword, true},
    {"on", TokenKind::kKeyword, false},
    {"without", TokenKind::kKeyword, true},
    {"start", TokenKind::kPreprocessor, true},
    {"end", TokenKind::kPreprocessor, true},
    {"inf", TokenKind::kNumber, false},
    {"nan", TokenKind::kNumber, false},
};

// Returns the token as PromQL names it in "unexpected ..." messages:
// `identifier "a"`, `"{"`, `<op:->`, `<offset>`, `end of input`.
std::string Describe(const Token& token) {
  switch (token.kind) {
    case TokenKind::kEof:
      return "end of input";
    case TokenKind::kError:
      return token.error;
    case TokenKind::kIdentifier:
      return absl::StrCat("identifier ", GoQuote(token.text));
    case TokenKind::kMetricIdentifier:
      return absl::StrCat("metric identifier ", GoQuote(token.text));
    case TokenKind::kString:
      return absl::StrCat("string ", QuoteTokenText(token.text));
    case TokenKind::kNumber:
      return absl::StrCat("number ", QuoteTokenText(token.text));
    case TokenKind::kDuration:
      return absl::StrCat("duration ", QuoteTokenText(token.text));
    case TokenKind::kNotEqual:
    case TokenKind::kRegexMatch:
    case TokenKind::kRegexNoMatch:
    case TokenKind::kOperator:
      return absl::StrCat("<op:", token.text, ">");
    case TokenKind::kAt:
      // 2.42 has no name for the `@` token type, so Go prints the type's
      // number (57385 in its generated parser) before the operator.
      return "\"<Item 57385>\" <op:@>";
    case TokenKind::kAggregator:
      return absl::StrCat("<aggr:", token.text, ">");
    case TokenKind::kKeyword:
      return absl::StrCat("<", token.text, ">");
    case TokenKind::kLeftBrace:
    case TokenKind::kRightBrace:
    case TokenKind::kLeftParen:
    case TokenKind::kLeftBracket:
    case TokenKind::kComma:
    case TokenKind::kEqual:
    case TokenKind::kPreprocessor:
      return GoQuote(token.text);
  }
  return GoQuote(token.text);
}

bool IsDigit(int32_t r) { return r >= '0' && r <= '9'; }
bool IsAlpha(int32_t r) {
  return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z');
}
bool IsAlphaNumeric(int32_t r) { return IsAlpha(r) || IsDigit(r); }

uint32_t DigitValue(int32_t r) {
  if (r >= '0' && r <= '9') return r - '0';
  if (r >= 'a' && r <= 'f') return r - 'a' + 10;
  if (r >= 'A' && r <= 'F') return r - 'A' + 10;
  return 16;  // Larger than any base.
}

// ---------------------------------------------------------------------------
// The lexer: PromQL's tokens outside and inside braces, on demand. The parser
// stops at the first error, so only the states a selector can reach exist.

class Lexer {
 public:
  explicit Lexer(absl::string_view input) : input_(input) {}

  Token Next() {
    SkipBlanksAndComments();
    return brace_open_ ? NextInsideBraces() : NextOutsideBraces();
  }

 private:
  Rune Peek() const { return DecodeRune(input_, pos_); }
  Rune Advance() {
    const Rune r = Peek();
    pos_ += r.width;
    return r;
  }
  // Takes the next rune if it is one of the ASCII characters in `set`.
  bool Accept(absl::string_view set) {
    const Rune r = Peek();
    if (r.value < 0 || r.value >= 0x80 ||
        set.find(static_cast<char>(r.value)) == absl::string_view::npos) {
      return false;
    }
    pos_ += r.width;
    return true;
  }
  void AcceptRun(absl::string_view set) {
    while (Accept(set)) {
    }
  }

  Token Make(TokenKind kind, size_t start, bool metric_name = false) const {
    Token token;
    token.kind = kind;
    token.pos = start;
    token.text = input_.substr(start, pos_ - start);
    token.metric_name = metric_name;
    return token;
  }
  static Token Error(size_t pos, std::string message) {
    Token token;
    token.kind = TokenKind::kError;
    token.pos = pos;
    token.error = std::move(message);
    return token;
  }

  // Whitespace is ' ', \t, \n, \r; a comment runs from '#' to the end of the
  // line (both are ASCII, so a byte scan is exact).
  void SkipBlanksAndComments() {
    while (pos_ < input_.size()) {
      const char c = input_[pos_];
      if (c == '#') {
        while (pos_ < input_.size() && input_[pos_] != '\n' &&
               input_[pos_] != '\r') {
          ++pos_;
        }
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        ++pos_;
      } else {
        break;
      }
    }
  }

  Token NextOutsideBraces() {
    const size_t start = pos_;
    const Rune r = Advance();
    if (r.width == 0) return Make(TokenKind::kEof, start);
    switch (r.value) {
      case ',':
        return Make(TokenKind::kComma, start);
      case '*':
      case '/':
      case '%':
      case '+':
      case '-':
      case '^':
        return Make(TokenKind::kOperator, start);
      case '@':
        return Make(TokenKind::kAt, start);
      case '<':
      case '>':
        Accept("=");
        return Make(TokenKind::kOperator, start);
      case '=':
        if (Accept("=")) return Make(TokenKind::kOperator, start);
        if (Peek().value == '~') {
          return Error(start, "unexpected character after '=': '~'");
        }
        return Make(TokenKind::kEqual, start);
      case '!': {
        const Rune next = Advance();
        if (next.value == '=') return Make(TokenKind::kOperator, start);
        return Error(start, absl::StrCat("unexpected character after '!': ",
                                         GoQuoteRune(next.value)));
      }
      case '"':
      case '\'':
        return LexQuotedString(start, r.value);
      case '`':
        return LexRawString(start);
      case '(':
        return Make(TokenKind::kLeftParen, start);
      case ')':
        // PromQL reports an unbalanced ')' just after it.
        return Error(pos_, "unexpected right parenthesis ')'");
      case '{':
        brace_open_ = true;
        return Make(TokenKind::kLeftBrace, start);
      case '[':
        return Make(TokenKind::kLeftBracket, start);
      case ']':
        return Error(start, "unexpected right bracket ']'");
      default:
        break;
    }
    if (IsDigit(r.value) || (r.value == '.' && IsDigit(Peek().value))) {
      pos_ = start;
      return LexNumberOrDuration(start);
    }
    if (IsAlpha(r.value) || r.value == ':') {
      return LexKeywordOrIdentifier(start);
    }
    return Error(start,
                 absl::StrCat("unexpected character: ", GoQuoteRune(r.value)));
  }

  Token NextInsideBraces() {
    const size_t start = pos_;
    const Rune r = Advance();
    if (r.width == 0) {
      return Error(start, "unexpected end of input inside braces");
    }
    if (IsAlpha(r.value)) {
      while (IsAlphaNumeric(Peek().value)) Advance();
      return Make(TokenKind::kIdentifier, start);
    }
    switch (r.value) {
      case ',':
        return Make(TokenKind::kComma, start);
      case '"':
      case '\'':
        return LexQuotedString(start, r.value);
      case '`':
        return LexRawString(start);
      case '=':
        if (Accept("~")) return Make(TokenKind::kRegexMatch, start);
        return Make(TokenKind::kEqual, start);
      case '!': {
        const Rune next = Advance();
        if (next.value == '~') return Make(TokenKind::kRegexNoMatch, start);
        if (next.value == '=') return Make(TokenKind::kNotEqual, start);
        return Error(start,
                     absl::StrCat("unexpected character after '!' inside "
                                  "braces: ",
                                  GoQuoteRune(next.value)));
      }
      case '{':
        return Error(start, "unexpected left brace '{'");
      case '}':
        brace_open_ = false;
        return Make(TokenKind::kRightBrace, start);
      default:
        return Error(start, absl::StrCat("unexpected character inside braces: ",
                                         GoQuoteRune(r.value)));
    }
  }

  // A "..." or '...' string; the opening quote is taken. Errors point at the
  // opening quote.
  Token LexQuotedString(size_t start, int32_t quote) {
    while (true) {
      const Rune r = Advance();
      if (r.width == 0 || r.value == '\n') {
        return Error(start, "unterminated quoted string");
      }
      if (r.value == '\\') {
        std::string error = CheckEscape(quote);
        if (!error.empty()) return Error(start, std::move(error));
      } else if (r.value == kRuneError) {
        // Also a literal U+FFFD: PromQL cannot tell it from a bad byte.
        return Error(start, "invalid UTF-8 rune");
      } else if (r.value == quote) {
        return Make(TokenKind::kString, start);
      }
    }
  }

  // Validates the escape after a backslash (Go's rules: \a \b \f \n \r \t \v
  // \\, the opening quote, \NNN octal, \xHH, \uHHHH, \UHHHHHHHH). Returns the
  // error message, or "" when valid.
  std::string CheckEscape(int32_t quote) {
    Rune c = Advance();
    if (c.value == quote) return "";
    int digits = 0;
    uint32_t base = 0;
    uint32_t max = 0;
    switch (c.value) {
      case 'a':
      case 'b':
      case 'f':
      case 'n':
      case 'r':
      case 't':
      case 'v':
      case '\\':
        return "";
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7':
        digits = 3, base = 8, max = 255;
        break;
      case 'x':
        c = Advance();
        digits = 2, base = 16, max = 255;
        break;
      case 'u':
        c = Advance();
        digits = 4, base = 16, max = kMaxRune;
        break;
      case 'U':
        c = Advance();
        digits = 8, base = 16, max = kMaxRune;
        break;
      case kEndOfInput:
        return "escape sequence not terminated";
      default:
        return absl::StrCat("unknown escape sequence ", GoUnicode(c.value));
    }
    uint32_t value = 0;
    while (digits > 0) {
      const uint32_t digit = DigitValue(c.value);
      if (digit >= base) {
        if (c.width == 0) return "escape sequence not terminated";
        return absl::StrCat("illegal character ", GoUnicode(c.value),
                            " in escape sequence");
      }
      value = value * base + digit;
      if (--digits > 0) c = Advance();
    }
    if (value > max || (value >= 0xD800 && value < 0xE000)) {
      return "escape sequence is an invalid Unicode code point";
    }
    return "";
  }

  // A `...` string: no escapes, newlines allowed.
  Token LexRawString(size_t start) {
    while (true) {
      const Rune r = Advance();
      if (r.width == 0) return Error(start, "unterminated raw string");
      if (r.value == kRuneError) return Error(start, "invalid UTF-8 rune");
      if (r.value == '`') return Make(TokenKind::kString, start);
    }
  }

  // Numbers and durations never fit a selector, but their extent and kind
  // appear in the error (`unexpected number "1"`, `unexpected duration "5m"`,
  // `bad number or duration syntax: "5mx"`).
  Token LexNumberOrDuration(size_t start) {
    if (ScanNumber()) return Make(TokenKind::kNumber, start);
    if (AcceptRemainingDuration()) return Make(TokenKind::kDuration, start);
    return Error(start,
                 absl::StrCat("bad number or duration syntax: ",
                              GoQuote(input_.substr(start, pos_ - start))));
  }

  bool ScanNumber() {
    absl::string_view digits = "0123456789";
    if (Accept("0") && Accept("xX")) digits = "0123456789abcdefABCDEF";
    AcceptRun(digits);
    if (Accept(".")) AcceptRun(digits);
    if (Accept("eE")) {
      Accept("+-");
      AcceptRun("0123456789");
    }
    return !IsAlphaNumeric(Peek().value);
  }

  // After a number that ran into a letter: a unit, optionally more
  // number+unit pairs, then a non-alphanumeric rune. On failure the position
  // stays past what was examined (it is part of the error text).
  bool AcceptRemainingDuration() {
    if (!Accept("smhdwy")) return false;
    Accept("s");
    while (Accept("0123456789")) {
      AcceptRun("0123456789");
      if (!Accept("smhdw")) return false;
      Accept("s");
    }
    const Rune after = Advance();
    if (IsAlphaNumeric(after.value)) return false;
    pos_ -= after.width;
    return true;
  }

  Token LexKeywordOrIdentifier(size_t start) {
    while (true) {
      const Rune r = Peek();
      if (!IsAlphaNumeric(r.value) && r.value != ':') break;
      pos_ += r.width;
    }
    const absl::string_view word = input_.substr(start, pos_ - start);
    const std::string lower = absl::AsciiStrToLower(word);
    for (const Keyword& keyword : kKeywords) {
      if (keyword.word == lower) {
        return Make(keyword.kind, start, keyword.metric_name);
      }
    }
    if (word.find(':') != absl::string_view::npos) {
      return Make(TokenKind::kMetricIdentifier, start, /*metric_name=*/true);
    }
    return Make(TokenKind::kIdentifier, start, /*metric_name=*/true);
  }

  absl::string_view input_;
  size_t pos_ = 0;
  bool brace_open_ = false;
};

// Returns the value of a string token validated by the lexer.
std::string Unquote(absl::string_view text) {
  const char quote = text.front();
  const absl::string_view body = text.substr(1, text.size() - 2);
  if (quote == '`') return std::string(body);
  std::string out;
  out.reserve(body.size());
  for (size_t i = 0; i < body.size();) {
    if (body[i] != '\\') {
      out.push_back(body[i++]);
      continue;
    }
    const char c = body[i + 1];
    i += 2;
    switch (c) {
      case 'a':
        out.push_back('\a');
        break;
      case 'b':
        out.push_back('\b');
        break;
      case 'f':
        out.push_back('\f');
        break;
      case 'n':
        out.push_back('\n');
        break;
      case 'r':
        out.push_back('\r');
        break;
      case 't':
        out.push_back('\t');
        break;
      case 'v':
        out.push_back('\v');
        break;
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = c == 'x' ? 2 : c == 'u' ? 4 : 8;
        uint32_t value = 0;
        for (size_t k = 0; k < n; ++k)
          value = value * 16 + DigitValue(body[i + k]);
        i += n;
        if (c == 'x') {
          out.push_back(
              static_cast<char>(value));  // One byte, maybe not UTF-8.
        } else {
          AppendUtf8(&out, static_cast<int32_t>(value));
        }
        break;
      }
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        const uint32_t value =
            (c - '0') * 64 + (body[i] - '0') * 8 + (body[i + 1] - '0');
        i += 2;
        out.push_back(static_cast<char>(value));
        break;
      }
      default:  // '\\' or the quote.
        out.push_back(c);
        break;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// The parser. It follows the states of 2.42's generated LALR parser for
// `START_METRIC_SELECTOR vector_selector` and reports what its error rules
// report: inside braces "unexpected X in label matching, expected Y", outside
// a bare "unexpected X". A lexer error wins over the syntax error it causes.

class Parser {
 public:
  explicit Parser(absl::string_view input) : input_(input), lexer_(input) {}

  absl::StatusOr<Selector> Parse() {
    Token token = lexer_.Next();
    absl::string_view name;
    const bool has_name = token.metric_name;
    if (has_name) {
      name = token.text;
      token = lexer_.Next();
    }
    Selector selector;
    if (token.kind == TokenKind::kLeftBrace) {
      if (absl::Status s = ParseBraces(&selector); !s.ok()) return s;
      token = lexer_.Next();
    } else if (!has_name) {
      return Unexpected(token, "", "");
    }
    if (token.kind != TokenKind::kEof) return Unexpected(token, "", "");
    if (has_name) {
      absl::StatusOr<LabelMatcher> matcher =
          LabelMatcher::Create(MatchType::kEqual, kMetricNameLabel, name);
      if (!matcher.ok()) return matcher.status();
      selector.push_back(*std::move(matcher));
    }
    return selector;
  }

 private:
  static constexpr absl::string_view kContext = "label matching";

  // Parses the matchers after '{', through the closing '}'.
  absl::Status ParseBraces(Selector* selector) {
    Token token = lexer_.Next();
    if (token.kind == TokenKind::kRightBrace) return absl::OkStatus();
    while (true) {
      if (token.kind != TokenKind::kIdentifier) {
        return Unexpected(token, kContext, "identifier or \"}\"");
      }
      const Token label = token;
      token = lexer_.Next();
      MatchType type;
      switch (token.kind) {
        case TokenKind::kEqual:
          type = MatchType::kEqual;
          break;
        case TokenKind::kNotEqual:
          type = MatchType::kNotEqual;
          break;
        case TokenKind::kRegexMatch:
          type = MatchType::kRegexMatch;
          break;
        case TokenKind::kRegexNoMatch:
          type = MatchType::kRegexNoMatch;
          break;
        default:
          return Unexpected(token, kContext, "label matching operator");
      }
      token = lexer_.Next();
      if (token.kind != TokenKind::kString) {
        return Unexpected(token, kContext, "string");
      }
      // Built before the next token is read, as PromQL reduces the matcher
      // without a lookahead: a bad regex wins over a later lexer error.
      absl::StatusOr<LabelMatcher> matcher =
          LabelMatcher::Create(type, label.text, Unquote(token.text));
      if (!matcher.ok()) return ErrorAt(label.pos, matcher.status().message());
      selector->push_back(*std::move(matcher));
      token = lexer_.Next();
      if (token.kind == TokenKind::kRightBrace) return absl::OkStatus();
      if (token.kind != TokenKind::kComma) {
        return Unexpected(token, kContext, "\",\" or \"}\"");
      }
      token = lexer_.Next();
      if (token.kind == TokenKind::kRightBrace) return absl::OkStatus();
    }
  }

  absl::Status Unexpected(const Token& token, absl::string_view context,
                          absl::string_view expected) const {
    if (token.kind == TokenKind::kError) return ErrorAt(token.pos, token.error);
    std::string message = absl::StrCat("unexpected ", Describe(token));
    if (!context.empty()) absl::StrAppend(&message, " in ", context);
    if (!expected.empty()) absl::StrAppend(&message, ", expected ", expected);
    return ErrorAt(token.pos, message);
  }

  // `<line>:<column>: parse error: <message>`, both 1-based, the column in
  // bytes from the start of the line.
  absl::Status ErrorAt(size_t pos, absl::string_view message) const {
    int line = 1;
    size_t line_start = 0;
    for (size_t i = 0; i < pos && i < input_.size(); ++i) {
      if (input_[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    }
    return absl::InvalidArgumentError(absl::StrCat(
        line, ":", pos - line_start + 1, ": parse error: ", message));
  }

  absl::string_view input_;
  Lexer lexer_;
};

}  // namespace

absl::StatusOr<Selector> ParseSelector(absl::string_view input) {
  return Parser(input).Parse();
}

bool HasNonEmptyMatcher(const Selector& selector) {
  for (const LabelMatcher& matcher : selector) {
    if (!matcher.MatchesEmpty()) return true;
  }
  return false;
}

}  // namespace fedgate
