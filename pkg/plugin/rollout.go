package plugin

import (
	"encoding/json"
	"fmt"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

func newRolloutCommand(o *Options) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rollout",
		Short: "Pause or resume the rollouts of a cluster (spec.rollout.paused)",
		Args:  cobra.ArbitraryArgs,
		RunE:  helpOrUnknown,
	}
	cmd.AddCommand(newPauseCommand(o, true), newPauseCommand(o, false))
	return cmd
}

func newPauseCommand(o *Options, pause bool) *cobra.Command {
	use, short := "resume CLUSTER", "Let held changes roll again (spec.rollout.paused=false)"
	if pause {
		use, short = "pause CLUSTER", "Hold every rollout, spec changes and restarts included (spec.rollout.paused=true)"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  oneArg("the name of an ImplyCluster"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, ic, err := o.cluster(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			lines := ExplainPause(ic, pause, o.Now())
			if paused(ic) != pause {
				patch, err := json.Marshal(map[string]any{"spec": map[string]any{"rollout": map[string]any{"paused": pause}}})
				if err != nil {
					return err
				}
				if err := c.Patch(cmd.Context(), ic, client.RawPatch(types.MergePatchType, patch)); err != nil {
					return fmt.Errorf("while setting spec.rollout.paused on ImplyCluster %s/%s: %w", ic.Namespace, ic.Name, err)
				}
			}
			printLines(o, lines)
			return nil
		},
	}
}
