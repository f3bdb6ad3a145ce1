#pragma once

// A scalar model of the AMX tile instructions octet uses, with the hardware's semantics (Intel SDM vol. 2,
// LDTILECFG / TILELOADD / TILESTORED / TILEZERO / TDPBUSD / TILERELEASE), so that the tile walk of
// amx_gemm.h can be tested on machines without AMX: the same walk code runs on this model and on the
// intrinsics (x86/amx_gemm_intrinsics.cpp).
//
// - Registers: 8 tiles of 16 rows x 64 bytes. A tile's configured shape (rows, colsb) is what loads,
//   stores and the multiply use; everything outside it reads as zero (loads and the multiply zero the
//   bytes past colsb in each row they write and the rows past the configured row count).
// - TDPBUSD C, A, B: C (rows M, colsb 4N: int32) += A (M rows of K = colsb / 4 groups of 4 uint8) x B
//   (K rows of N groups of 4 int8): C[m][n] += sum_{g < K} sum_{j < 4} A[m][4g + j] * B[g][4n + j], each
//   product and sum in int32 wrapping modulo 2^32 (no saturation).
// - What the hardware refuses (#UD / #GP) the model throws octet::Error for: an instruction before
//   LDTILECFG or after TILERELEASE, a configuration with a palette other than 1, nonzero reserved bytes or
//   start row, more than 16 rows or 64 bytes per row, rows and colsb not both zero or both nonzero, or
//   tiles 8-15 configured; TDPBUSD on tiles that are not three different configured ones, or whose shapes
//   disagree (A.colsb / 4 != B.rows, C.colsb != B.colsb, C.rows != A.rows). It also refuses a TDPBUSD
//   operand whose colsb is not a multiple of 4, which may be stricter than the hardware (octet's walk
//   never asks for one).

#include <array>
#include <cstdint>
#include <cstring>
#include <string>

#include "kernels/error.h"
#include "kernels/gemm/amx_tile_config.h"

namespace octet::gemm::amx {

class TileModel {
 public:
  using Tile = std::array<uint8_t, kMaxRows * kMaxRowBytes>;

  // LDTILECFG: checks the configuration and zeroes every tile.
  void configure(const TileConfig& c) {
    if (c.palette != 1) fail("palette " + std::to_string(c.palette) + " (only palette 1 is modelled)");
    if (c.start_row != 0) fail("nonzero start_row in a fresh configuration");
    for (uint8_t r : c.reserved)
      if (r != 0) fail("nonzero reserved configuration byte");
    for (int t = 0; t < kMaxColumnSlots; ++t) {
      if (t >= kTiles && (c.rows[t] != 0 || c.colsb[t] != 0))
        fail("tile " + std::to_string(t) + " configured");
      if (c.rows[t] > kMaxRows || c.colsb[t] > kMaxRowBytes) fail("tile " + std::to_string(t) + " too large");
      if ((c.rows[t] == 0) != (c.colsb[t] == 0)) fail("tile " + std::to_string(t) + " half configured");
    }
    config_ = c;
    configured_ = true;
    tiles_ = {};
  }

  // TILERELEASE: back to the initial state (no configuration, tiles zero).
  void release() {
    configured_ = false;
    config_ = TileConfig{};
    tiles_ = {};
  }

  // TILEZERO: the whole register, whatever its shape.
  void zero(int t) {
    require(t, "TILEZERO");
    tiles_[static_cast<size_t>(t)] = {};
  }

  // TILELOADD: rows r < rows(t) from p + r * stride, colsb(t) bytes each; the rest of the tile zero.
  void load(int t, const void* p, int64_t stride) {
    require(t, "TILELOADD");
    Tile& tile = tiles_[static_cast<size_t>(t)];
    tile = {};
    for (int r = 0; r < rows(t); ++r)
      std::memcpy(tile.data() + r * kMaxRowBytes, static_cast<const uint8_t*>(p) + r * stride,
                  static_cast<size_t>(colsb(t)));
  }

  // TILESTORED: rows r < rows(t) to p + r * stride, colsb(t) bytes each.
  void store(int t, void* p, int64_t stride) const {
    require(t, "TILESTORED");
    const Tile& tile = tiles_[static_cast<size_t>(t)];
    for (int r = 0; r < rows(t); ++r)
      std::memcpy(static_cast<uint8_t*>(p) + r * stride, tile.data() + r * kMaxRowBytes,
                  static_cast<size_t>(colsb(t)));
  }

  // TDPBUSD c, a, b (see the header comment).
  void dpbusd(int c, int a, int b) {
    require(c, "TDPBUSD"), require(a, "TDPBUSD"), require(b, "TDPBUSD");
    if (c == a || c == b || a == b) fail("TDPBUSD needs three different tiles");
    if (colsb(c) % 4 != 0 || colsb(a) % 4 != 0) fail("TDPBUSD on rows that are not whole dwords");
    if (colsb(a) / 4 != rows(b))
      fail("TDPBUSD: A has " + std::to_string(colsb(a) / 4) + " dword columns, B " + std::to_string(rows(b)) +
           " rows");
    if (colsb(c) != colsb(b)) fail("TDPBUSD: C and B rows differ in length");
    if (rows(c) != rows(a)) fail("TDPBUSD: C and A have different row counts");
    const Tile& ta = tiles_[static_cast<size_t>(a)];
    const Tile& tb = tiles_[static_cast<size_t>(b)];
    Tile& tc = tiles_[static_cast<size_t>(c)];
    const int m_rows = rows(c), n_dwords = colsb(c) / 4, k_dwords = colsb(a) / 4;
    // Row m of C in local int32s, and A's and B's dwords read whole: a quarter of the memory accesses of
    // a byte at a time (this model runs in every sanitizer build, where each access is checked). The sum
    // wraps modulo 2^32, so its order is free.
    for (int m = 0; m < m_rows; ++m) {
      uint8_t* c_row = tc.data() + m * kMaxRowBytes;
      std::array<uint32_t, kMaxRowBytes / 4> acc;
      std::memcpy(acc.data(), c_row, sizeof acc);
      for (int g = 0; g < k_dwords; ++g) {
        std::array<uint8_t, 4> x;
        std::memcpy(x.data(), ta.data() + m * kMaxRowBytes + g * 4, 4);
        const uint8_t* b_row = tb.data() + g * kMaxRowBytes;
        for (int n = 0; n < n_dwords; ++n) {
          std::array<int8_t, 4> w;
          std::memcpy(w.data(), b_row + n * 4, 4);
          // |x * w| <= 255 * 128, four of them: exact in int32.
          const int32_t dot = x[0] * w[0] + x[1] * w[1] + x[2] * w[2] + x[3] * w[3];
          acc[static_cast<size_t>(n)] += static_cast<uint32_t>(dot);
        }
      }
      std::memcpy(c_row, acc.data(), sizeof acc);
    }
    // The written rows are zero past colsb, the rows past the row count zero.
    for (int m = 0; m < kMaxRows; ++m) {
      const int kept = m < m_rows ? colsb(c) : 0;
      std::memset(tc.data() + m * kMaxRowBytes + kept, 0, static_cast<size_t>(kMaxRowBytes - kept));
    }
  }

  // The interface of a tile backend for the walk (amx_gemm.h): tile numbers as template arguments, which
  // the intrinsics need as immediates.
  template <int T>
  void zero() {
    zero(T);
  }
  template <int T>
  void load(const void* p, int64_t stride) {
    load(T, p, stride);
  }
  template <int T>
  void store(void* p, int64_t stride) {
    store(T, p, stride);
  }
  template <int C, int A, int B>
  void dpbusd() {
    dpbusd(C, A, B);
  }

  bool configured() const { return configured_; }
  const TileConfig& config() const { return config_; }
  const Tile& tile(int t) const { return tiles_.at(static_cast<size_t>(t)); }
  int rows(int t) const { return config_.rows[t]; }
  int colsb(int t) const { return config_.colsb[t]; }

 private:
  [[noreturn]] static void fail(const std::string& what) { throw Error("AMX tile model: " + what); }

  void require(int t, const char* instruction) const {
    if (!configured_) fail(std::string(instruction) + " without a tile configuration");
    if (t < 0 || t >= kTiles) fail(std::string(instruction) + " on tile " + std::to_string(t));
    if (rows(t) == 0) fail(std::string(instruction) + " on unconfigured tile " + std::to_string(t));
  }

  bool configured_ = false;
  TileConfig config_;
  std::array<Tile, kTiles> tiles_{};
};

}  // namespace octet::gemm::amx
