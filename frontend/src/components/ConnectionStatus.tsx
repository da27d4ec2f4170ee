import { Wifi, WifiOff } from "lucide-react";
import { useOnline } from "../lib/useOnline";

export function ConnectionStatus() {
  const online = useOnline();
  return (
    <p role="status" aria-label="Connection" className={online ? "connection" : "connection offline"}>
      {online ? <Wifi aria-hidden="true" size={16} /> : <WifiOff aria-hidden="true" size={16} />}
      <span>{online ? "Online" : "Offline"}</span>
    </p>
  );
}
