import { ApiProperty } from '@nestjs/swagger';
import { ListedThreadView, MessageView, ThreadView } from '../presenters';

/** The response bodies of the chat routes, as classes so that the OpenAPI document shows them. */

export class ThreadPageView {
  @ApiProperty({ type: [ListedThreadView], description: 'Most recently active first' }) items!: ListedThreadView[];
  @ApiProperty({ type: String, nullable: true, description: 'cursor of the next page; null on the last' })
  nextCursor!: string | null;
}

export class MessagePageView {
  @ApiProperty({ type: [MessageView], description: 'Oldest first' }) items!: MessageView[];
  @ApiProperty({ type: String, nullable: true, description: 'before of the next (older) page; null at the root' })
  nextBefore!: string | null;
}

export class ExchangeView {
  @ApiProperty({ type: MessageView }) userMessage!: MessageView;
  @ApiProperty({ type: MessageView, description: 'The reply as stored when it ended' }) assistantMessage!: MessageView;
}

export class StoppedView {
  @ApiProperty({ enum: [true] }) stopped!: true;
}

export class ThreadExportView {
  @ApiProperty({ type: ThreadView }) thread!: ThreadView;
  @ApiProperty({ type: [MessageView], description: 'Every message of every branch, oldest first' })
  messages!: MessageView[];
}

export class ModelView {
  @ApiProperty({ example: 'gpt-4o-mini' }) id!: string;
  @ApiProperty() name!: string;
  @ApiProperty({ description: 'Tokens' }) contextWindow!: number;
}

export class ModelListView {
  @ApiProperty({ type: [ModelView] }) models!: ModelView[];
  @ApiProperty() defaultModel!: string;
  @ApiProperty({ description: 'No provider is configured: only the demo model is offered' }) demo!: boolean;
}
