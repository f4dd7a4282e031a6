import { useId } from 'react';
import type { ModelInfo } from '../../../lib/types';

export function ModelSelect({
  models,
  value,
  onChange,
}: {
  models: ModelInfo[];
  value: string;
  onChange: (id: string) => void;
}) {
  const id = useId();
  return (
    <div className="model-select">
      <label htmlFor={id} className="visually-hidden">
        Model
      </label>
      <select id={id} value={value} onChange={(e) => onChange(e.target.value)}>
        {!models.some((m) => m.id === value) && value && <option value={value}>{value}</option>}
        {models.map((m) => (
          <option key={m.id} value={m.id}>
            {m.name}
          </option>
        ))}
      </select>
    </div>
  );
}
