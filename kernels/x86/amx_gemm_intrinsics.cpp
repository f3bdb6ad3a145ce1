// The AMX walk (kernels/gemm/amx_gemm.h) on the hardware's tiles: the tile backend below maps the walk's
// instructions to GCC's AMX intrinsics. Compiled with -mamx-tile -mamx-int8 (kernels/CMakeLists.txt), and
// never called unless amx_support() says the CPU and OS allow tiles. The avx512amx ISA, taken only when
// named, runs it: this code has not yet run on AMX hardware (docs/kernels.md, "AMX").

#include <immintrin.h>

#include "kernels/error.h"
#include "kernels/gemm/amx_gemm.h"
#include "kernels/peak.h"
#include "kernels/x86/amx_support.h"

namespace octet::gemm {

namespace {

// GCC 12's tile intrinsics are macros that paste the tile number into the instruction's text (%%tmm"#dst),
// so each needs a literal: OCTET_AMX_LITERAL(T, OP) expands OP(0) .. OP(7) under `if constexpr (T == i)`.
#define OCTET_AMX_LITERAL(T, OP)         \
  if constexpr ((T) == 0) {              \
    OP(0);                               \
  } else if constexpr ((T) == 1) {       \
    OP(1);                               \
  } else if constexpr ((T) == 2) {       \
    OP(2);                               \
  } else if constexpr ((T) == 3) {       \
    OP(3);                               \
  } else if constexpr ((T) == 4) {       \
    OP(4);                               \
  } else if constexpr ((T) == 5) {       \
    OP(5);                               \
  } else if constexpr ((T) == 6) {       \
    OP(6);                               \
  } else {                               \
    static_assert((T) == 7, "tile 0-7"); \
    OP(7);                               \
  }

// GCC's tile loads are asm statements with the address as a plain register operand and no memory input or
// clobber, so nothing tells the compiler that they read memory: an empty asm with a "memory" clobber before
// each keeps the A copies the walk has just written from being reordered past (or removed before) the load.
// The configuration gets the same barrier (_tile_loadconfig names only its first 8 bytes as an operand).
inline void compiler_barrier() {
  __asm__ volatile("" ::: "memory");
}

struct HardwareTiles {
  void configure(const amx::TileConfig& c) {
    compiler_barrier();
    _tile_loadconfig(&c);
  }
  void release() { _tile_release(); }

  template <int T>
  void zero() {
#define OCTET_AMX_ZERO(t) _tile_zero(t)
    OCTET_AMX_LITERAL(T, OCTET_AMX_ZERO)
#undef OCTET_AMX_ZERO
  }
  template <int T>
  void load(const void* p, int64_t stride) {
    compiler_barrier();
#define OCTET_AMX_LOAD(t) _tile_loadd(t, p, stride)
    OCTET_AMX_LITERAL(T, OCTET_AMX_LOAD)
#undef OCTET_AMX_LOAD
  }
  template <int T>
  void store(void* p, int64_t stride) {
#define OCTET_AMX_STORE(t) _tile_stored(t, p, stride)
    OCTET_AMX_LITERAL(T, OCTET_AMX_STORE)
#undef OCTET_AMX_STORE
  }
  // The walk's four products: C[i][j] += A[i] x B[j] (amx::acc_tile, a_tile, b_tile).
  template <int C, int A, int B>
  void dpbusd() {
    static_assert(A >= 4 && A <= 5 && B >= 6 && B <= 7 && C == amx::acc_tile(A - 4, B - 6),
                  "the walk's tile assignment");
    if constexpr (C == 0) {
      _tile_dpbusd(0, 4, 6);
    } else if constexpr (C == 1) {
      _tile_dpbusd(1, 4, 7);
    } else if constexpr (C == 2) {
      _tile_dpbusd(2, 5, 6);
    } else {
      _tile_dpbusd(3, 5, 7);
    }
  }
};

#undef OCTET_AMX_LITERAL

}  // namespace

void compute_amx(const AmxPackedWeights& w, const uint8_t* a, int64_t a_stride, const int32_t* row_sums,
                 int64_t m, int64_t n_begin, int64_t n_end, uint8_t* c, int64_t c_stride) {
  if (!amx_support().usable) throw Error("gemm: AMX is not usable here: " + amx_support().reason);
  HardwareTiles tiles;
  amx::walk(tiles, w, a, a_stride, row_sums, m, n_begin, n_end, c, c_stride, amx::avx512_epilogue);
}

void compute_amx_segmented(const AmxPackedWeights& w, const uint8_t* const* rows, int64_t m, int64_t n_begin,
                           int64_t n_end, uint8_t* c, int64_t c_stride) {
  if (!amx_support().usable) throw Error("gemm: AMX is not usable here: " + amx_support().reason);
  HardwareTiles tiles;
  amx::walk_segmented(tiles, w, rows, m, n_begin, n_end, c, c_stride, amx::avx512_epilogue);
}

}  // namespace octet::gemm

namespace octet {

double peak_loop_amx(long iterations) {
  if (!amx_support().usable) throw Error("AMX peak: AMX is not usable here: " + amx_support().reason);
  using gemm::amx::a_tile, gemm::amx::acc_tile, gemm::amx::b_tile;
  gemm::HardwareTiles tiles;
  alignas(64) static const int8_t operands[gemm::kAmxTileBytes] = {};  // values do not change the rate
  alignas(64) int32_t out[16 * 16];
  tiles.configure(gemm::amx::walk_config());
  tiles.load<a_tile(0)>(operands, 64);
  tiles.load<a_tile(1)>(operands, 64);
  tiles.load<b_tile(0)>(operands, 64);
  tiles.load<b_tile(1)>(operands, 64);
  tiles.zero<acc_tile(0, 0)>();
  tiles.zero<acc_tile(0, 1)>();
  tiles.zero<acc_tile(1, 0)>();
  tiles.zero<acc_tile(1, 1)>();
  // The walk's 2 x 2 block: four independent accumulator tiles, as the AMX GEMM keeps them.
  for (long i = 0; i < iterations; ++i) {
    tiles.dpbusd<acc_tile(0, 0), a_tile(0), b_tile(0)>();
    tiles.dpbusd<acc_tile(0, 1), a_tile(0), b_tile(1)>();
    tiles.dpbusd<acc_tile(1, 0), a_tile(1), b_tile(0)>();
    tiles.dpbusd<acc_tile(1, 1), a_tile(1), b_tile(1)>();
  }
  tiles.store<acc_tile(0, 0)>(out, 64);
  tiles.release();
  __asm__ volatile("" : : "r"(out[0]));
  return static_cast<double>(iterations) * 4 * 16 * 16 * 64;
}

}  // namespace octet
