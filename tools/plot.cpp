// `octet bench --plot`: the profile as a picture, drawn by gnuplot (Debian's gnuplot-nox) from a data file
// and a script written next to the PNG. No image code of our own.

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>

#include "kernels/error.h"
#include "tools/commands.h"

namespace octet::tools {

void plot_profile(const std::string& png, const std::string& title, const std::vector<PlotLayer>& layers,
                  double peak_gmacs, double bandwidth_gbs) {
  const std::string data = png + ".dat", script = png + ".gnuplot";
  {
    std::ofstream f(data);
    if (!f) throw Error("cannot write '" + data + "'");
    f << "# index name ms gmacs macs_per_byte\n";
    for (size_t i = 0; i < layers.size(); ++i)
      f << i << " \"" << layers[i].name << "\" " << layers[i].ms << " " << layers[i].gmacs << " "
        << layers[i].macs_per_byte << "\n";
  }
  {
    std::ofstream f(script);
    if (!f) throw Error("cannot write '" + script + "'");
    f << "set terminal pngcairo size 1400,1000 font ',10' noenhanced\n"
      << "set output '" << png << "'\n"
      << "set multiplot layout 2,1 title '" << title
      << "'\n"
      // Time per layer.
      << "set title 'time per layer (median ms)'\nset style fill solid 0.6\nset boxwidth 0.8\n"
      << "set xtics rotate by 60 right font ',7'\nset ylabel 'ms'\nunset logscale\n"
      << "plot '" << data
      << "' using 1:3:xtic(2) with boxes notitle\n"
      // Roofline: min(peak, bandwidth * intensity); layers without MACs (data movement) are left out.
      << "set title 'roofline'\nset logscale xy\nset xlabel 'MACs per byte moved'\nset ylabel 'GMAC/s'\n"
      << "set xtics auto rotate by 0 font ',10'\nset xrange [0.01:1000]\nset yrange [0.01:" << peak_gmacs * 2
      << "]\n"
      << "peak = " << peak_gmacs << "\nbw = " << bandwidth_gbs << "\n"
      << "roof(x) = (bw * x < peak) ? bw * x : peak\n"
      << "plot roof(x) with lines lw 2 title sprintf('ceilings: %.0f GMAC/s, %.0f GB/s', peak, bw), \\\n"
      << "     '" << data << "' using ($5 > 0 ? $5 : 1/0):4 with points pt 7 ps 1.2 title 'layers'\n"
      << "unset multiplot\n";
  }
  const std::string command = "gnuplot '" + script + "' 2>&1";
  if (std::system(command.c_str()) != 0)
    throw Error("--plot: gnuplot failed or is not installed (apt-get install gnuplot-nox); script: " +
                script);
}

}  // namespace octet::tools
