// The dashboard's charts (loaded lazily: recharts is large). Each chart has a table twin for
// screen readers (the SVG is hidden from them).
import {
  Bar,
  BarChart,
  CartesianGrid,
  Line,
  LineChart,
  ResponsiveContainer,
  Tooltip,
  XAxis,
  YAxis,
} from "recharts";
import type { Stats } from "../../api/stats";

function rows(breakdown: Record<string, number>) {
  return Object.entries(breakdown).map(([name, count]) => ({ name, count }));
}

function Breakdown({ title, data }: { title: string; data: { name: string; count: number }[] }) {
  return (
    <figure className="chart" aria-label={title}>
      <figcaption>{title}</figcaption>
      <div aria-hidden="true" className="chart-box">
        <ResponsiveContainer width="100%" height={200}>
          <BarChart
            accessibilityLayer={false}
            data={data}
            margin={{ top: 8, right: 8, bottom: 8, left: 0 }}
          >
            <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
            <XAxis dataKey="name" stroke="var(--muted)" />
            <YAxis allowDecimals={false} stroke="var(--muted)" />
            <Tooltip />
            <Bar dataKey="count" fill="var(--accent)" isAnimationActive={false} />
          </BarChart>
        </ResponsiveContainer>
      </div>
      <table className="visually-hidden">
        <caption>{title}</caption>
        <tbody>
          {data.map((d) => (
            <tr key={d.name}>
              <th scope="row">{d.name}</th>
              <td>{d.count}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

export default function Charts({ stats }: { stats: Stats }) {
  return (
    <div className="charts">
      <figure className="chart wide" aria-label="Created per day">
        <figcaption>Created per day</figcaption>
        <div aria-hidden="true" className="chart-box">
          <ResponsiveContainer width="100%" height={220}>
            <LineChart
              accessibilityLayer={false}
              data={stats.created_per_day}
              margin={{ top: 8, right: 16, bottom: 8, left: 0 }}
            >
              <CartesianGrid strokeDasharray="3 3" stroke="var(--border)" />
              <XAxis dataKey="date" stroke="var(--muted)" />
              <YAxis allowDecimals={false} stroke="var(--muted)" />
              <Tooltip />
              <Line
                type="monotone"
                dataKey="count"
                stroke="var(--accent)"
                dot={false}
                isAnimationActive={false}
              />
            </LineChart>
          </ResponsiveContainer>
        </div>
      </figure>
      <Breakdown title="By status" data={rows(stats.status_breakdown)} />
      <Breakdown title="By priority" data={rows(stats.priority_breakdown)} />
      <Breakdown title="By category" data={rows(stats.category_breakdown)} />
    </div>
  );
}
