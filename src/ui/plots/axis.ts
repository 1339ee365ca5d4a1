/** Svelte action drawing a d3 axis into an SVG <g> (d3 owns only that element's children). */
import { select, type Axis, type AxisDomain } from 'd3';

export function axis<D extends AxisDomain>(node: SVGGElement, a: Axis<D>) {
  const draw = (x: Axis<D>) => {
    select(node).call(x);
  };
  draw(a);
  return { update: draw };
}
