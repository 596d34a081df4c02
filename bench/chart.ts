import type { TopLevelSpec } from 'vega-lite' with { 'resolution-mode': 'import' };
import { median, Series } from './stats';

/** The throughput figures as grouped bars (median, with min–max whiskers), one panel per unit. */
export async function renderChart(series: Series[]): Promise<string> {
  // vega and vega-lite are ES modules only.
  const vega = await import('vega');
  const { compile } = await import('vega-lite');
  const values = series.flatMap((s) => [
    { name: s.name, unit: s.unit, median: median(s.values), min: Math.min(...s.values), max: Math.max(...s.values) },
  ]);
  const spec: TopLevelSpec = {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: 'Catalog + audit through Dapr sidecars (median, min–max)',
    data: { values },
    facet: { row: { field: 'unit', type: 'nominal', title: null } },
    resolve: { scale: { y: 'independent', x: 'independent' } },
    spec: {
      width: 640,
      layer: [
        {
          mark: 'bar',
          encoding: {
            y: { field: 'name', type: 'nominal', sort: null, title: null },
            x: { field: 'median', type: 'quantitative', title: null },
          },
        },
        {
          mark: 'rule',
          encoding: {
            y: { field: 'name', type: 'nominal', sort: null },
            x: { field: 'min', type: 'quantitative' },
            x2: { field: 'max' },
          },
        },
      ],
    },
  };
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  return view.toSVG();
}
