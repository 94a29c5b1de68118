#include "gateway/writers/test_families.h"

#include <string>
#include <utility>
#include <vector>

#include "merge/interned_labels.h"
#include "merge/query/series_query.h"
#include "merge/series_store.h"

namespace fedgate {

std::string WriteTestFamilies(ExpositionWriter& writer,
                              const std::vector<TestFamily>& families) {
  std::string out;
  for (const TestFamily& family : families) {
    std::vector<Sample> samples;
    for (const TestSeries& s : family.series) {
      Sample sample;
      sample.labels = InternedLabels::Intern(s.labels);
      sample.value = s.value;
      samples.push_back(std::move(sample));
    }
    std::vector<SelectedSeries> rows;
    for (size_t i = 0; i < samples.size(); ++i) {
      rows.push_back(SelectedSeries{family.name, family.metadata, &samples[i],
                                    family.series[i].timestamp_ms});
    }
    writer.BeginFamily(FamilyView{family.name, family.metadata, rows}, &out);
    for (size_t i = 0; i < rows.size(); ++i) writer.AppendSeries(i, &out);
    writer.EndFamily(&out);
  }
  writer.Finish(&out);
  return out;
}

}  // namespace fedgate
