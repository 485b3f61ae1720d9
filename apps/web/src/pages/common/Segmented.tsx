/** A row of toggle buttons choosing one of a few options (a period, a range); the chosen one is pressed. */
export function Segmented<Value extends string | number>({
  label,
  options,
  value,
  onChange,
}: {
  label: string;
  options: readonly { value: NoInfer<Value>; label: string }[];
  value: Value;
  onChange(value: NoInfer<Value>): void;
}) {
  return (
    <div role="group" aria-label={label} className="segmented">
      {options.map((option) => (
        <button
          key={option.value}
          type="button"
          className={option.value === value ? undefined : 'secondary'}
          aria-pressed={option.value === value}
          onClick={() => onChange(option.value)}
        >
          {option.label}
        </button>
      ))}
    </div>
  );
}
